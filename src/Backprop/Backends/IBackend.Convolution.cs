namespace Backprop;

public partial interface IBackend
{
    /// <summary>
    /// 2-D convolution (cross-correlation): y[n, o] = Σ over the input channels of o's group and the kernel taps of
    /// weight[o, c, i, j] · x[n, c, oh·sh − ph + i·dh, ow·sw − pw + j·dw] (0 outside x), plus bias[o].
    /// x is [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] or null, y [N, O, OH, OW]; OH and OW come from y
    /// (the caller may ask for fewer positions than fit).
    /// </summary>
    void Conv2d(StridedView x, StridedView weight, StridedView? bias, StridedView y, Window2d window, int groups);

    /// <summary>
    /// The transpose (adjoint in x) of <see cref="Conv2d"/>: y, [N, O, OH, OW], receives each input pixel of
    /// x [N, C, H, W] times the kernel of weight [C, O/groups, kh, kw], scattered to where that convolution would
    /// have read it (positions outside y are dropped), plus bias[o]. This is also the gradient of a convolution with
    /// respect to its input.
    /// </summary>
    void ConvTranspose2d(StridedView x, StridedView weight, StridedView? bias, StridedView y, Window2d window, int groups);

    /// <summary>
    /// The gradient of <see cref="Conv2d"/> with respect to its weight, the correlation of the input with the output
    /// gradient: gradWeight[o, c, i, j] = Σ over n, oh, ow of gradOutput[n, o, oh, ow] · x[n, c′, oh·sh − ph + i·dh,
    /// ow·sw − pw + j·dw], c′ the input channel c of o's group. x is [N, C, H, W], gradOutput [N, O, OH, OW],
    /// gradWeight [O, C/groups, kh, kw] (overwritten).
    /// </summary>
    void Conv2dWeightGrad(StridedView x, StridedView gradOutput, StridedView gradWeight, Window2d window, int groups);

    /// <summary>
    /// y[n, c, oh, ow] = the largest input in the window (NaN wins, as in PyTorch), and indices (Int64) its flat
    /// position h·W + w within the [H, W] plane; the first wins ties. x is [N, C, H, W]; y and indices are
    /// [N, C, OH, OW]. Padding never wins.
    /// </summary>
    void MaxPool2d(StridedView x, StridedView y, StridedView indices, Window2d window);

    /// <summary>
    /// The gradient of <see cref="MaxPool2d"/> (max-unpooling): gradInput [N, C, H, W] is overwritten with zeros and
    /// each gradOutput[n, c, oh, ow] is added at flat position indices[n, c, oh, ow] of its plane.
    /// </summary>
    void MaxPool2dBackward(StridedView gradOutput, StridedView indices, StridedView gradInput);

    /// <summary>
    /// y[n, c, oh, ow] = the mean of the window. The divisor counts the padding taps inside the padded input when
    /// <paramref name="countIncludePad"/> (taps past the padded input, in ceil mode, never count), else only the
    /// taps on the input. Dilation must be 1.
    /// </summary>
    void AvgPool2d(StridedView x, StridedView y, Window2d window, bool countIncludePad);

    /// <summary>The adjoint of <see cref="AvgPool2d"/>: gradInput (overwritten) receives each output gradient divided by its window's divisor.</summary>
    void AvgPool2dBackward(StridedView gradOutput, StridedView gradInput, Window2d window, bool countIncludePad);
}
