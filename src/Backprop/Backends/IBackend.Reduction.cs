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
    void Reduce(ReduceOp op, StridedView x, StridedView y);

    /// <summary>Int64 indices of the maximum (or minimum) along <paramref name="dim"/>; the first wins ties; NaN counts as the maximum.</summary>
    void ArgReduce(bool max, StridedView x, int dim, StridedView indices);

    /// <summary>Softmax (or log-softmax) along <paramref name="dim"/>, computed stably by subtracting the maximum first.</summary>
    void Softmax(StridedView x, int dim, StridedView y, bool log);
}
