using Backprop.Ops;

namespace Backprop;

/// <remarks>
/// Reads through the indexer are views where the index allows (ints, ranges, new axes, ellipses, positive steps) and
/// gathers otherwise (index tensors, masks, negative steps), all on the graph. Writes, and every in-place op on a view
/// while recording, follow PyTorch's CopySlices: the written elements are located in the base tensor, the base gets
/// an out-of-place scatter of the new values as its producer, and the written view reads its new values from that, so
/// gradients reach the written values and the base (zero at the overwritten positions). See Note [Writes into views].
/// </remarks>
public partial class Tensor
{
    private Tensor ApplyIndex(TensorIndex[] indices)
    {
        int consumed = 0, ellipses = 0;
        foreach (var index in indices)
        {
            consumed += index.Consumes;
            if (index.Kind == TensorIndex.Kinds.Ellipsis) ellipses++;
        }
        if (consumed > Rank) throw new IndexOutOfRangeException($"Indexer: too many indices ({consumed}) for a tensor of shape {Shape}.");
        if (ellipses > 1) throw new ArgumentException("Indexer: an index can have only one ellipsis.");
        var result = this;
        var advanced = new List<(int Dim, Tensor Index)>();
        int dim = 0;
        foreach (var index in indices)
        {
            switch (index.Kind)
            {
                case TensorIndex.Kinds.Single:
                    result = result.Select(dim, index.Single.GetOffset(result.Sizes[dim]));
                    break;
                case TensorIndex.Kinds.Span:
                    var (start, length) = index.Span.GetOffsetAndLength(result.Sizes[dim]);
                    result = result.Slice(dim, start, start + length);
                    dim++;
                    break;
                case TensorIndex.Kinds.Stepped:
                    result = SteppedSlice(result, dim, index.Start, index.Stop, index.Step);
                    dim++;
                    break;
                case TensorIndex.Kinds.NewAxis:
                    result = result.Unsqueeze(dim);
                    dim++;
                    break;
                case TensorIndex.Kinds.Ellipsis:
                    dim += Rank - consumed;
                    break;
                case TensorIndex.Kinds.Tensor:
                    advanced.Add((dim, index.Indices!));
                    dim++;
                    break;
                case TensorIndex.Kinds.Mask:
                    var mask = index.Indices!;
                    if (mask.Rank == 0)
                    {
                        // A 0-dim mask adds a dim that keeps everything (true) or nothing (false), as in PyTorch.
                        long[] keep = mask.Detach().To(DType.Float64).ToArray<double>()[0] != 0 ? [0L] : [];
                        result = result.Unsqueeze(dim);
                        advanced.Add((dim, FromArray(keep, keep.Length)));
                        dim++;
                        break;
                    }
                    for (int i = 0; i < mask.Rank; i++)
                        if (mask.Sizes[i] != result.Sizes[dim + i])
                            throw new ShapeMismatchException("Indexer",
                                $"the mask of shape {mask.Shape} does not match the indexed dims {Shape.Format(result.Sizes[dim..(dim + mask.Rank)])} of a tensor of shape {Shape}");
                    foreach (var coordinate in NonzeroCoordinates(mask)) advanced.Add((dim++, coordinate));
                    break;
            }
        }
        return advanced.Count == 0 ? result : AdvancedIndex(result, advanced);
    }

    /// <summary>Python's start:stop:step along one dim; a negative step takes the positive-step window and flips it (a copy).</summary>
    private static Tensor SteppedSlice(Tensor x, int dim, int? start, int? stop, int step)
    {
        int size = x.Sizes[dim];
        if (step > 0) return x.Slice(dim, start ?? 0, stop ?? size, step);
        // NumPy's rules for a negative step: bounds clamp to [-1, size - 1], where -1 means "before the first".
        static int Clamp(int v, int size) => v < 0 ? Math.Max(v + size, -1) : Math.Min(v, size - 1);
        int first = start is { } s ? Clamp(s, size) : size - 1;
        int last = stop is { } e ? Clamp(e, size) : -1;
        int stride = -step;
        int length = first > last ? (first - last - 1) / stride + 1 : 0;
        if (length == 0) return x.Slice(dim, 0, 0);
        int low = first - (length - 1) * stride;
        return x.Slice(dim, low, first + 1, stride).Flip(dim);
    }

    /// <summary>For each dim of a mask, the Int64 coordinates of its nonzero elements in row-major order.</summary>
    private static Tensor[] NonzeroCoordinates(Tensor mask)
    {
        var values = mask.Detach().To(DType.Float64).ToArray<double>();
        var found = new List<int>();
        for (int i = 0; i < values.Length; i++)
            if (values[i] != 0) found.Add(i);
        var coordinates = new Tensor[mask.Rank];
        int inner = 1;
        for (int d = mask.Rank - 1; d >= 0; d--)
        {
            var column = new long[found.Count];
            for (int j = 0; j < column.Length; j++) column[j] = found[j] / inner % mask.Sizes[d];
            coordinates[d] = FromArray(column, found.Count);
            inner *= mask.Sizes[d];
        }
        return coordinates;
    }

    /// <summary>
    /// PyTorch's advanced indexing of a view by index tensors at some of its dims: the indices broadcast together to a
    /// batch shape, which replaces the indexed dims, at the first of them when they are adjacent, else in front.
    /// </summary>
    private static Tensor AdvancedIndex(Tensor x, List<(int Dim, Tensor Index)> advanced)
    {
        var (batch, linear) = RowNumbers(x, advanced, "Indexer");
        int count = batch.NumElements;
        var indexedDims = advanced.Select(a => a.Dim).ToArray();
        var restDims = Enumerable.Range(0, x.Rank).Where(d => !indexedDims.Contains(d)).ToArray();
        var rest = restDims.Select(d => x.Sizes[d]).ToArray();
        var front = x.Permute([.. indexedDims, .. restDims]).Reshape([Shape.CountElements(indexedDims.Select(d => x.Sizes[d]).ToArray()), .. rest]);
        var gathered = front.IndexSelect(0, FromArray(linear, count).To(x.Device)).Reshape([.. batch.Dims, .. rest]);
        bool adjacent = indexedDims.Zip(indexedDims.Skip(1)).All(p => p.Second == p.First + 1);
        int at = indexedDims[0];
        if (!adjacent || at == 0 || batch.Rank == 0 && rest.Length == 0) return gathered;
        // Move the batch dims from the front to where the first indexed dim was.
        int b = batch.Rank;
        var order = new List<int>();
        for (int d = 0; d < at; d++) order.Add(b + d);
        for (int d = 0; d < b; d++) order.Add(d);
        for (int d = at; d < rest.Length; d++) order.Add(b + d);
        return gathered.Permute([.. order]);
    }

    /// <summary>
    /// Int64 index tensors at some dims of <paramref name="x"/>, broadcast together to a batch shape, as one row number
    /// per batch element into those dims flattened in the given order (negative indices count from the end); an index
    /// out of range throws, naming <paramref name="op"/>, the dim and the shape. Shared by the indexer and IndexPut.
    /// </summary>
    internal static (Shape Batch, long[] Rows) RowNumbers(Tensor x, IReadOnlyList<(int Dim, Tensor Index)> advanced, string op)
    {
        var batch = Shape.Wrap([]);
        foreach (var (_, index) in advanced) batch = Shape.Broadcast(batch, index.Shape, op);
        int count = batch.NumElements;
        var rows = new long[count];
        foreach (var (dim, index) in advanced)
        {
            int size = x.Sizes[dim];
            var positions = index.ExpandTo(batch.Dims).ToArray<long>();
            for (int j = 0; j < count; j++)
            {
                long p = positions[j] < 0 ? positions[j] + size : positions[j];
                if ((ulong)p >= (ulong)size)
                    throw new IndexOutOfRangeException($"{op}: index {positions[j]} is out of range for dimension {dim} of size {size} (shape {x.Shape}).");
                rows[j] = rows[j] * size + p;
            }
        }
        return (batch, rows);
    }

    /// <summary>
    /// <c>x[indices] = value</c>: writes <paramref name="value"/> (converted to this dtype, broadcast to the indexed
    /// shape) into the indexed elements. While recording, the write is on the graph (see the class remarks); a leaf
    /// that requires grad, or a view of one, is refused as in PyTorch. With index tensors that repeat a position, one
    /// of the values written there wins (the last in row-major order).
    /// </summary>
    public void IndexAssign(TensorIndex[] indices, Tensor value)
    {
        CheckInPlaceAllowed("Indexer");
        if (indices.All(i => i.IsBasic))
        {
            ApplyIndex(indices).CopyFrom(value);
            return;
        }
        var root = ViewBase ?? this;
        var positions = PositionsIn(root).ApplyIndex(indices);
        WriteAt(root, positions, value, "Indexer", "", 0);
    }

    /// <summary><c>x[indices] = value</c> with a scalar value.</summary>
    public void IndexAssign(TensorIndex[] indices, double value) => IndexAssign(indices, ScalarLike(value));

    /// <summary>
    /// A tensor with this tensor's layout whose elements are their row-major positions in <paramref name="root"/>, a
    /// tensor over the same storage: the map from elements of a view to elements of its base, for any strides.
    /// </summary>
    private Tensor PositionsIn(Tensor root)
    {
        var ids = Backend.Allocate(DType.Int64, Storage.Length, zeroed: true);
        var rootIds = new Tensor(ids, root.Sizes, root.StrideArray, root.Offset);
        Backend.Copy(Arange(root.NumElements, DType.Int64, Device).Reshape(root.Sizes).Strided, rootIds.Strided);
        return new Tensor(ids, Sizes, StrideArray, Offset);
    }

    /// <summary>The number of graph writes to the storage this view's history has seen (see <see cref="Storage.GraphWrites"/>).</summary>
    private int _graphWritesSeen;

    /// <summary>This tensor's producer; a view whose base was written on the graph since it was made first rebuilds it.</summary>
    private Node? History
    {
        get
        {
            if (ViewBase is not null && _graphWritesSeen != Storage.GraphWrites) RebuildViewHistory();
            return _gradFn;
        }
    }

    /// <summary>
    /// PyTorch regenerates a view's grad_fn from its base after the base was changed in place; here the view becomes
    /// a gather of its elements from the base's current history (its data stays a view of the same storage).
    /// </summary>
    private void RebuildViewHistory()
    {
        _graphWritesSeen = Storage.GraphWrites;
        var root = ViewBase!;
        if (_requiresGrad || !root.RequiresGrad) return;
        using (Autograd.EnableGrad())
        {
            var read = root.Reshape(-1).IndexSelect(0, PositionsIn(root).Reshape(-1)).Reshape(Sizes);
            read.GradFn?.Attach(this);
        }
    }

    /// <summary>An in-place op on a view while recording: its out-of-place <paramref name="result"/> is written into the base.</summary>
    private void WriteThroughView(Tensor result, string op, string callerFile, int callerLine)
    {
        var root = ViewBase!;
        WriteAt(root, PositionsIn(root), result, op, callerFile, callerLine);
    }

    /// <summary>
    /// Writes <paramref name="value"/> at the row-major <paramref name="positions"/> of <paramref name="root"/> and
    /// bumps the storage's version. While recording, root's producer becomes the out-of-place scatter of the values;
    /// the views of root, the one written through among them, rebuild their history from it when next used.
    /// </summary>
    private static void WriteAt(Tensor root, Tensor positions, Tensor value, string op, string callerFile, int callerLine)
    {
        var src = value.DType == root.DType ? value : value.To(root.DType);
        if (src.Device != root.Device) src = src.To(root.Device);
        if (!Shape.Broadcast(src.Shape, positions.Shape, op).Dims.AsSpan().SequenceEqual(positions.Sizes))
            throw new ShapeMismatchException(op, $"a value of shape {src.Shape} cannot be written into the indexed shape {positions.Shape} of a tensor of shape {root.Shape}");
        var flatPositions = positions.Reshape(-1);
        var flatValues = src.ExpandTo(positions.Sizes).Reshape(-1);
        if ((Autograd.IsGradEnabled && (root.RequiresGrad || src.RequiresGrad)) || ForwardAD.Involves(root, src))
        {
            Tensor updated;
            using (CallSite.Enter(callerFile, callerLine))
                updated = root.Reshape(-1).Scatter(0, flatPositions, flatValues).Reshape(root.Sizes);
            root.Backend.Copy(updated.Strided, root.Strided);
            root.BumpVersion(op, callerFile, callerLine);
            root.Storage.GraphWrites++;
            updated.GradFn?.Attach(root);
            ForwardAD.AfterInPlace(root, updated);
            return;
        }
        using (Autograd.NoGrad())
        {
            var detached = root.Detach();
            var flat = detached.IsContiguous ? detached.Reshape(-1) : detached.Reshape(-1).Clone();
            root.Backend.ScatterReduce(flat.Strided, 0, flatPositions.Contiguous().Strided, flatValues.Contiguous().Strided, ScatterReduction.Replace, includeSelf: true);
            if (!detached.IsContiguous) root.Backend.Copy(flat.Reshape(root.Sizes).Strided, root.Strided);
        }
        root.BumpVersion(op, callerFile, callerLine);
    }
}
