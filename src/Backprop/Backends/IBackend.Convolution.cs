namespace Backprop;

public partial interface IBackend
{
    /// <summary>
    /// Unfolds sliding windows into columns (im2col): <c>columns[n, c, i, j, oh, ow]</c> is the input element that
    /// kernel tap (i, j) of output position (oh, ow) reads, or 0 where it reads padding. x is [N, C, H, W];
    /// columns is [N, C, kh, kw, OH, OW] and may have any strides, so the caller picks the memory order its matrix
    /// product wants. OH and OW are the columns' sizes (the caller may ask for fewer positions than fit).
    /// </summary>
    void Im2Col(StridedView x, StridedView columns, Window2d window);

    /// <summary>
    /// The adjoint of <see cref="Im2Col"/> (col2im): x, [N, C, H, W], is overwritten with the sum of every column
    /// entry at the input position it was read from; entries that fall in the padding are dropped.
    /// </summary>
    void Col2Im(StridedView columns, StridedView x, Window2d window);

    /// <summary>
    /// y[n, c, oh, ow] = the largest input in the window (NaN wins, as in PyTorch), and indices (Int64) its flat
    /// position h·W + w within the [H, W] plane; the first wins ties. x is [N, C, H, W]; y and indices are
    /// [N, C, OH, OW]. Padding never wins.
    /// </summary>
    void MaxPool2d(StridedView x, StridedView y, StridedView indices, Window2d window);

    /// <summary>
    /// y[n, c, oh, ow] = the mean of the window. The divisor counts the padding taps inside the padded input when
    /// <paramref name="countIncludePad"/> (taps past the padded input, in ceil mode, never count), else only the
    /// taps on the input. Dilation must be 1.
    /// </summary>
    void AvgPool2d(StridedView x, StridedView y, Window2d window, bool countIncludePad);

    /// <summary>The adjoint of <see cref="AvgPool2d"/>: gradInput (overwritten) receives each output gradient divided by its window's divisor.</summary>
    void AvgPool2dBackward(StridedView gradOutput, StridedView gradInput, Window2d window, bool countIncludePad);
}
