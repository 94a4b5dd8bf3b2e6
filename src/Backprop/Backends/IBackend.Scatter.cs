namespace Backprop;

/// <summary>How <see cref="IBackend.ScatterReduce"/> combines the source values that land on one element (torch.scatter_reduce).</summary>
public enum ScatterReduction
{
    /// <summary>The element takes the source value (the last one in row-major order when several land on it).</summary>
    Replace,
    Sum,
    Prod,
    Mean,
    Amax,
    Amin,
}

public partial interface IBackend
{
    /// <summary>
    /// y[..., index[..., j, ...], ...] ⊕= source[..., j, ...] along dim, visiting the index in row-major order. With
    /// <paramref name="includeSelf"/> false, an element that receives a value first drops its own (the first source
    /// value stands in for it); elements no index names keep theirs. Mean divides each element's total by the number
    /// of values combined. Amax and Amin propagate NaN. The index has the shape of the region of source it reads.
    /// </summary>
    void ScatterReduce(StridedView y, int dim, StridedView index, StridedView source, ScatterReduction reduction, bool includeSelf);
}
