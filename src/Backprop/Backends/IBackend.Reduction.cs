namespace Backprop;

public enum ReduceOp
{
    Sum, Prod, Max, Min,
}

public partial interface IBackend
{
    /// <summary>
    /// Reduces <paramref name="x"/> into <paramref name="y"/>, which has x's rank and, in each dimension, either x's
    /// size or 1: the dimensions where y has 1 are the ones reduced (keep-dim form).
    /// </summary>
    /// <remarks>
    /// Floating-point Sum and Prod accumulate in float64 in a fixed order and round once, so the result does not
    /// depend on the SIMD width or thread count (docs/architecture.md, Note [Accurate reductions]).
    /// </remarks>
    void Reduce(ReduceOp op, StridedView x, StridedView y);

    /// <summary>
    /// The floating-point Sum of <see cref="Reduce"/> divided by <paramref name="divisor"/> before its single
    /// rounding: the mean of a constant row is exactly that constant. An empty sum is 0, so 0 / 0 gives NaN.
    /// </summary>
    void Sum(StridedView x, StridedView y, double divisor);

    /// <summary>Int64 indices of the maximum (or minimum) along <paramref name="dim"/>; the first wins ties; NaN counts as the maximum.</summary>
    void ArgReduce(bool max, StridedView x, int dim, StridedView indices);

    /// <summary>
    /// Softmax (or log-softmax) along <paramref name="dim"/>, computed stably by subtracting the maximum first; the
    /// denominator Σ exp is accumulated in float64 in the fixed order of <see cref="Reduce"/>.
    /// </summary>
    void Softmax(StridedView x, int dim, StridedView y, bool log);

    /// <summary>
    /// The per-row part of a cross-entropy over log-probabilities [N, C] with Int64 class targets [N]: valid[i] = 0 where
    /// the target equals <paramref name="ignoreIndex"/> (and 1 elsewhere), loss[i] = −logProbs[i, t]·valid[i] with t
    /// the target, or class 0 for an ignored row. Returns the number of rows not ignored. A target outside [0, C) that is
    /// not ignored throws <see cref="IndexOutOfRangeException"/>.
    /// </summary>
    double CrossEntropyRows(StridedView logProbs, StridedView targets, long ignoreIndex, StridedView loss, StridedView valid);

    /// <summary>
    /// The gradient of <see cref="CrossEntropyRows"/>' loss with respect to the logits the log-probabilities came from:
    /// gradient[i, c] = (exp(logProbs[i, c]) − [c = t]) · scale[i], with the targets as there (an ignored row picks
    /// class 0 and carries scale 0).
    /// </summary>
    void CrossEntropyRowsBackward(StridedView logProbs, StridedView targets, long ignoreIndex, StridedView scale, StridedView gradient);
}
