namespace Backprop;

/// <summary>Element-wise math kernels beyond <see cref="UnaryOp"/> and <see cref="BinaryOp"/>: those of three inputs.</summary>
public partial interface IBackend
{
    /// <summary>
    /// y = start + weight·(end − start) for floating-point start, end, weight and y of one shape and dtype (broadcast
    /// inputs arrive with stride 0), evaluated as PyTorch's lerp: from start for |weight| &lt; ½ and from end otherwise,
    /// so weight 0 gives start and weight 1 gives end exactly.
    /// </summary>
    void Lerp(StridedView start, StridedView end, StridedView weight, StridedView y);
}
