namespace Backprop;

public partial interface IBackend
{
    /// <summary>
    /// c = a·b (or c += a·b when <paramref name="accumulate"/>) for a of shape [..., M, K] and b of shape [..., K, N],
    /// with equal leading (batch) dimensions that may have stride 0. Any strides are accepted; a transposed operand
    /// is read in place, never copied.
    /// </summary>
    void MatMul(StridedView a, StridedView b, StridedView c, bool accumulate);

    /// <summary>
    /// c = a·b + bias for a [M, K], b [K, N] and bias [N] added to every row of c [M, N]: the Linear layer's forward.
    /// The result is that of writing the bias into c and then <see cref="MatMul"/> with accumulate; a backend may
    /// start the product from the bias instead, and write c once.
    /// </summary>
    void MatMulBias(StridedView a, StridedView b, StridedView bias, StridedView c);
}
