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

    /// <summary>
    /// The backward of <see cref="AttentionSoftmax"/>: for probabilities p and their gradient dp, both [..., Lq, Lk],
    /// ds = scale·p ⊙ (dp − Σ_k dp ⊙ p) row by row (the softmax Jacobian's product, times the scale the scores were
    /// multiplied by). The row sums are accumulated in float64 in a fixed order. All three are contiguous and of one
    /// shape; <paramref name="ds"/> may be <paramref name="dp"/> itself.
    /// </summary>
    void AttentionSoftmaxBackward(StridedView p, StridedView dp, double scale, StridedView ds);
}
