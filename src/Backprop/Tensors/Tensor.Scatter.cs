using Backprop.Ops;

namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// A copy with <paramref name="value"/> wherever <paramref name="mask"/> is nonzero (torch.masked_fill). The mask,
    /// of any dtype, broadcasts to this tensor's shape; the filled elements get no gradient.
    /// </summary>
    public Tensor MaskedFill(Tensor mask, double value) => MaskedFill(mask, ScalarLike(value));

    /// <summary>Like <see cref="MaskedFill(Tensor, double)"/> with a 0-dim <paramref name="value"/>, which receives the sum of the filled elements' gradients.</summary>
    public Tensor MaskedFill(Tensor mask, Tensor value)
    {
        if (value.Rank != 0)
            throw new ShapeMismatchException("MaskedFill", $"the value must be a 0-dim tensor; got shape {value.Shape}");
        if (Shape.Broadcast(mask.Shape, Shape, "MaskedFill") != Shape)
            throw new ShapeMismatchException("MaskedFill", $"the mask of shape {mask.Shape} does not broadcast to the input's shape {Shape}");
        return Where(mask, value.To(DType), this);
    }

    /// <summary>
    /// A copy with self[…, index[…, j, …], …] = source[…, j, …] along <paramref name="dim"/> (torch.scatter). The
    /// source may be larger than the index in any dim; only the index's region is read. Where several source elements
    /// land on one position, the last in row-major order wins.
    /// </summary>
    public Tensor Scatter(int dim, Tensor index, Tensor source) => ScatterReduce(dim, index, source, ScatterReduction.Replace);

    /// <summary>A copy with <paramref name="value"/> at every position the index names along <paramref name="dim"/>.</summary>
    public Tensor Scatter(int dim, Tensor index, double value)
    {
        int d = Shape.NormalizeDim(dim, Rank);
        ScatterOp.CheckIndex("Scatter", this, index);
        return Where(ScatterOp.Targets(this, d, index), ScalarLike(value).To(DType), this);
    }

    /// <summary>
    /// torch.scatter_reduce: each source element is combined into the position the index names along
    /// <paramref name="dim"/> by <paramref name="reduction"/>. With <paramref name="includeSelf"/> false, the positions
    /// that receive values drop their own; the others keep it. Amax and Amin share the gradient evenly among the
    /// values equal to the result.
    /// </summary>
    public Tensor ScatterReduce(int dim, Tensor index, Tensor source, ScatterReduction reduction, bool includeSelf = true)
    {
        int d = Shape.NormalizeDim(dim, Rank);
        string op = reduction == ScatterReduction.Replace ? "Scatter" : "ScatterReduce";
        ScatterOp.CheckIndex(op, this, index);
        if (source.Rank != index.Rank)
            throw new ShapeMismatchException(op, $"source of shape {source.Shape} must have the rank of the index {index.Shape}");
        for (int i = 0; i < index.Rank; i++)
            if (index.Sizes[i] > source.Sizes[i])
                throw new ShapeMismatchException(op, $"index of shape {index.Shape} is larger than the source {source.Shape} in dim {i}");
        for (int i = 0; i < index.Rank; i++)
            if (index.Sizes[i] < source.Sizes[i]) source = source.Narrow(i, 0, index.Sizes[i]);
        return ScatterOp.Apply(this, d, index, source, reduction, includeSelf);
    }

    /// <summary>A copy with <paramref name="alpha"/>·<paramref name="source"/>'s slices added at <paramref name="index"/> along <paramref name="dim"/> (torch.index_add).</summary>
    public Tensor IndexAdd(int dim, Tensor index, Tensor source, double alpha) =>
        IndexAdd(dim, index, alpha == 1 ? source : source * alpha);

    /// <summary>
    /// torch.index_put: the elements at the positions the Int64 <paramref name="indices"/> name in this tensor's
    /// leading dims (broadcast together; negative counts from the end) become <paramref name="values"/>, which
    /// broadcast to the indexed shape; with <paramref name="accumulate"/> they are added instead, and repeated
    /// positions add up. Without accumulate, of repeated positions the last one wins.
    /// </summary>
    public Tensor IndexPut(Tensor[] indices, Tensor values, bool accumulate = false)
    {
        int k = indices.Length;
        if (k == 0 || k > Rank)
            throw new ArgumentException($"IndexPut: {k} index tensors given for a tensor of shape {Shape}; give 1 to {Rank}.");
        foreach (var index in indices)
            if (index.DType != DType.Int64)
                throw new ArgumentException($"IndexPut: indices must be int64; got {index.DType.DisplayName()} of shape {index.Shape}.");
        var (batch, linear) = RowNumbers(this, [.. indices.Select((index, dim) => (dim, index))], "IndexPut");
        int count = batch.NumElements;
        var rest = Sizes[k..];
        int leading = Shape.CountElements(Sizes[..k]);
        int[] target = [.. batch.Dims, .. rest];
        if (!Shape.Broadcast(values.Shape, Shape.Wrap(target), "IndexPut").Dims.AsSpan().SequenceEqual(target))
            throw new ShapeMismatchException("IndexPut", $"values of shape {values.Shape} do not broadcast to the indexed shape {Shape.Format(target)}");
        var flatValues = values.To(DType).ExpandTo(target).Reshape([count, .. rest]);
        var flat = Reshape([leading, .. rest]);
        var rows = FromArray(linear, count).To(Device);
        var result = accumulate
            ? flat.IndexAdd(0, rows, flatValues)
            : flat.Scatter(0, rows.Reshape([count, .. rest.Select(_ => 1)]).ExpandTo([count, .. rest]), flatValues);
        return result.Reshape(Sizes);
    }
}
