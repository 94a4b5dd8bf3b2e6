namespace Backprop;

public partial interface IBackend
{
    /// <summary>
    /// Attention probabilities: y = softmax, along the last dim, of scale·x for scores x [..., Lq, Lk], where an entry of
    /// x equal to −∞ is masked out, and with <paramref name="causal"/> every entry whose key index (last dim) exceeds its
    /// query index (the dim before) is too. Masked entries get probability 0, and a row with no entry left gives all
    /// zeros rather than the NaN of 0/0. Rows are computed stably (the row's maximum is subtracted first) and the
    /// denominator is summed in float64 in the fixed order of <see cref="Reduce"/>, so the result depends on neither
    /// SIMD width nor thread count. <paramref name="y"/> is contiguous, of x's shape; it may be x itself.
    /// </summary>
    void AttentionSoftmax(StridedView x, double scale, bool causal, StridedView y);
}
