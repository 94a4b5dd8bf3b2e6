namespace Backprop;

public partial interface IBackend
{
    /// <summary>y[…, i, …] = Σ_{j ≤ i} x[…, j, …] along dim, accumulated in order (float32 in float64), so the bits never depend on the machine.</summary>
    void Cumsum(StridedView x, int dim, StridedView y);

    /// <summary>y[…, i, …] = Π_{j ≤ i} x[…, j, …] along dim, accumulated in order (float32 in float64).</summary>
    void Cumprod(StridedView x, int dim, StridedView y);

    /// <summary>y = x with the order of each dimension in <paramref name="dims"/> reversed.</summary>
    void Flip(StridedView x, int[] dims, StridedView y);

    /// <summary>y = x rotated by <paramref name="shift"/> along dim: y[(i + shift) mod n] = x[i]; 0 ≤ shift &lt; n.</summary>
    void Roll(StridedView x, int dim, int shift, StridedView y);

    /// <summary>
    /// Int64 <paramref name="indices"/> (x's shape) that sort each slice along dim: stable (equal values keep their
    /// order), NaN after every number in ascending order and before every number in descending order.
    /// </summary>
    void Argsort(StridedView x, int dim, bool descending, StridedView indices);

    /// <summary>
    /// The Int64 index (x's shape with dim of size 1) of the element at 0-based rank <paramref name="rank"/> of each
    /// slice in the stable ascending order of <see cref="Argsort"/>. With <paramref name="propagateNaN"/>, a slice with
    /// a NaN gives the index of its first NaN instead.
    /// </summary>
    void RankIndex(StridedView x, int dim, int rank, bool propagateNaN, StridedView index);

    /// <summary>
    /// The Int64 index (x's shape with dim of size 1) of the most frequent value of each slice: the smallest such value
    /// on a tie, at its last position. NaN equals nothing, so it counts once.
    /// </summary>
    void ModeIndex(StridedView x, int dim, StridedView index);
}
