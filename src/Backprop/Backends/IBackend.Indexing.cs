namespace Backprop;

public partial interface IBackend
{
    /// <summary>y = x.index_select(dim, index): y's slice i along dim is x's slice index[i]. index is 1-D Int64.</summary>
    void IndexSelect(StridedView x, int dim, StridedView index, StridedView y);

    /// <summary>y's slice index[i] along dim += source's slice i (the adjoint of IndexSelect; repeated indices add up).</summary>
    void IndexAdd(StridedView y, int dim, StridedView index, StridedView source);

    /// <summary>y[..., j, ...] = x[..., index[..., j, ...], ...] along dim; index has y's shape.</summary>
    void Gather(StridedView x, int dim, StridedView index, StridedView y);

    /// <summary>y[..., index[..., j, ...], ...] += source[..., j, ...] along dim (the adjoint of Gather).</summary>
    void ScatterAdd(StridedView y, int dim, StridedView index, StridedView source);
}
