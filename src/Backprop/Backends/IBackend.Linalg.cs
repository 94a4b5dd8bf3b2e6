namespace Backprop;

public partial interface IBackend
{
    /// <summary>
    /// c = a·b (or c += a·b when <paramref name="accumulate"/>) for a of shape [..., M, K] and b of shape [..., K, N],
    /// with equal leading (batch) dimensions that may have stride 0. Any strides are accepted; a transposed operand
    /// is read in place, never copied.
    /// </summary>
    void MatMul(StridedView a, StridedView b, StridedView c, bool accumulate);
}
