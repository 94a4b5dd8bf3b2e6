using Backprop.Ops;

namespace Backprop;

public partial class Tensor
{
    /// <summary>The same elements in a new shape (one size may be −1, inferred). A view when the layout allows, else a copy.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var sizes = InferShape(shape, "Reshape");
        if (sizes.AsSpan().SequenceEqual(Sizes)) return this;
        var strides = ViewStrides(Sizes, StrideArray, sizes);
        return strides is null ? ViewOp.Apply(Clone(), sizes) : ViewOp.Apply(this, sizes);
    }

    /// <summary>Like <see cref="Reshape"/> but never copies: throws when the layout cannot be viewed in the new shape.</summary>
    public Tensor View(params int[] shape)
    {
        var sizes = InferShape(shape, "View");
        if (ViewStrides(Sizes, StrideArray, sizes) is null)
            throw new InvalidOperationException(
                $"View: a tensor of shape {Shape} with strides {Shape.Format(StrideArray)} cannot be viewed as {Shape.Format(sizes)} " +
                "without copying. Use Reshape (which copies when needed) or call Contiguous() first.");
        return sizes.AsSpan().SequenceEqual(Sizes) ? this : ViewOp.Apply(this, sizes);
    }

    public Tensor ReshapeAs(Tensor other) => Reshape(other.Sizes);

    /// <summary>Merges dims <paramref name="startDim"/>..<paramref name="endDim"/> into one.</summary>
    public Tensor Flatten(int startDim = 0, int endDim = -1)
    {
        if (Rank == 0) return Reshape(1);
        int s = Shape.NormalizeDim(startDim, Rank), e = Shape.NormalizeDim(endDim, Rank);
        if (s > e) throw new ArgumentException($"Flatten: startDim {startDim} comes after endDim {endDim}.");
        var sizes = new List<int>();
        for (int d = 0; d < s; d++) sizes.Add(Sizes[d]);
        int merged = 1;
        for (int d = s; d <= e; d++) merged *= Sizes[d];
        sizes.Add(merged);
        for (int d = e + 1; d < Rank; d++) sizes.Add(Sizes[d]);
        return Reshape(sizes.ToArray());
    }

    /// <summary>Removes every dimension of size 1.</summary>
    public Tensor Squeeze() => Reshape(Sizes.Where(s => s != 1).ToArray());

    /// <summary>Removes <paramref name="dim"/> if its size is 1 (otherwise returns this tensor, as PyTorch does).</summary>
    public Tensor Squeeze(int dim)
    {
        if (Rank == 0) return this;
        int d = Shape.NormalizeDim(dim, Rank);
        if (Sizes[d] != 1) return this;
        var sizes = Sizes.Where((_, i) => i != d).ToArray();
        return ViewOp.Apply(this, sizes);
    }

    /// <summary>Inserts a dimension of size 1 at <paramref name="dim"/> (negative counts from the end of the result).</summary>
    public Tensor Unsqueeze(int dim)
    {
        int d = Shape.NormalizeDim(dim, Rank + 1);
        var sizes = new int[Rank + 1];
        for (int i = 0, j = 0; i < sizes.Length; i++) sizes[i] = i == d ? 1 : Sizes[j++];
        return ViewOp.Apply(this, sizes);
    }

    /// <summary>Swaps two dimensions (a view).</summary>
    public Tensor Transpose(int dim0, int dim1)
    {
        int a = Shape.NormalizeDim(dim0, Rank), b = Shape.NormalizeDim(dim1, Rank);
        if (a == b) return this;
        var perm = new int[Rank];
        for (int i = 0; i < perm.Length; i++) perm[i] = i;
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return PermuteOp.Apply(this, perm);
    }

    /// <summary>The transpose of a matrix (a vector or scalar is returned as is).</summary>
    public Tensor T => Rank < 2 ? this : Rank == 2 ? Transpose(0, 1) :
        throw new InvalidOperationException($"T: is for matrices; this tensor has shape {Shape}. Use MT to transpose the last two dims, or Permute.");

    /// <summary>Transposes the last two dimensions (matrix transpose of each matrix in a batch).</summary>
    public Tensor MT => Transpose(-2, -1);

    /// <summary>Reorders dimensions: result dim i is this tensor's dim <paramref name="dims"/>[i] (a view).</summary>
    public Tensor Permute(params int[] dims)
    {
        if (dims.Length != Rank)
            throw new ArgumentException($"Permute: {dims.Length} dims given for a tensor of rank {Rank}.");
        var perm = new int[Rank];
        var seen = new bool[Rank];
        for (int i = 0; i < Rank; i++)
        {
            perm[i] = Shape.NormalizeDim(dims[i], Rank);
            if (seen[perm[i]]) throw new ArgumentException($"Permute: dimension {dims[i]} appears twice in {Shape.Format(dims)}.");
            seen[perm[i]] = true;
        }
        return PermuteOp.Apply(this, perm);
    }

    /// <summary>Repeats size-1 dimensions (and adds leading ones) without copying; −1 keeps a size.</summary>
    public Tensor Expand(params int[] sizes)
    {
        var target = (int[])sizes.Clone();
        int offset = target.Length - Rank;
        if (offset < 0) throw new ShapeMismatchException("Expand", $"cannot expand shape {Shape} to fewer dims {Shape.Format(sizes)}");
        for (int i = 0; i < target.Length; i++)
            if (target[i] == -1)
            {
                if (i < offset) throw new ArgumentException("Expand: −1 is not allowed for a new leading dimension.");
                target[i] = Sizes[i - offset];
            }
        return ExpandTo(target);
    }

    public Tensor ExpandAs(Tensor other) => ExpandTo(other.Sizes);

    internal Tensor ExpandTo(int[] sizes) => sizes.AsSpan().SequenceEqual(Sizes) ? this : ExpandOp.Apply(this, sizes);

    /// <summary>Sums a broadcast gradient back to <paramref name="sizes"/>: the adjoint of expanding to this tensor's shape.</summary>
    internal Tensor SumTo(int[] sizes)
    {
        if (sizes.AsSpan().SequenceEqual(Sizes)) return this;
        int lead = Rank - sizes.Length;
        var mask = new bool[Rank];
        for (int d = 0; d < Rank; d++) mask[d] = d < lead || (sizes[d - lead] == 1 && Sizes[d] != 1);
        var summed = SumOp.Apply(this, mask, keepDim: true);
        return summed.Reshape(sizes);
    }

    /// <summary><paramref name="length"/> elements of <paramref name="dim"/> from <paramref name="start"/> (a view).</summary>
    public Tensor Narrow(int dim, int start, int length) => Slice(dim, start, start + length);

    /// <summary>
    /// Elements start, start + step, … before end along <paramref name="dim"/> (a view). Negative start and end count
    /// from the end; out-of-range bounds are clamped, as in Python slicing.
    /// </summary>
    public Tensor Slice(int dim, int start, int end, int step = 1)
    {
        int d = Shape.NormalizeDim(dim, Rank);
        if (step <= 0) throw new ArgumentException($"Slice: step must be positive; got {step}.");
        int size = Sizes[d];
        int s = start < 0 ? Math.Max(0, start + size) : Math.Min(start, size);
        int e = end < 0 ? Math.Max(0, end + size) : Math.Min(end, size);
        int length = e > s ? (e - s + step - 1) / step : 0;
        if (s == 0 && step == 1 && length == size) return this;
        return SliceOp.Apply(this, d, s, length, step);
    }

    /// <summary>The slice at <paramref name="index"/> of <paramref name="dim"/>, with that dimension removed (a view).</summary>
    public Tensor Select(int dim, int index)
    {
        int d = Shape.NormalizeDim(dim, Rank);
        int size = Sizes[d];
        int i = index < 0 ? index + size : index;
        if ((uint)i >= (uint)size)
            throw new IndexOutOfRangeException($"Select: index {index} is out of range for dimension {dim} of size {size}.");
        return SliceOp.Apply(this, d, i, 1, 1).Squeeze(d);
    }

    /// <summary>
    /// Indexing as in PyTorch: <c>x[0]</c>, <c>x[.., 1..3]</c>, <c>x[^1]</c>, <c>x[TensorIndex.NewAxis]</c>,
    /// <c>x[rows, cols]</c> with Int64 tensors, <c>x[TensorIndex.Mask(m)]</c>. Ints, ranges, new axes and ellipses give
    /// a view; index tensors, masks and negative steps give a copy. Assigning writes through, also while recording
    /// (see <see cref="IndexAssign(TensorIndex[], Tensor)"/>).
    /// </summary>
    [System.Runtime.CompilerServices.IndexerName("Elements")]
    public Tensor this[params TensorIndex[] indices]
    {
        get => ApplyIndex(indices);
        set => IndexAssign(indices, value);
    }

    /// <summary>Splits into <paramref name="chunks"/> nearly equal views along <paramref name="dim"/> (the last may be smaller).</summary>
    public Tensor[] Chunk(int chunks, int dim = 0)
    {
        int size = Size(dim);
        int step = (size + chunks - 1) / chunks;
        return Split(Math.Max(step, 1), dim);
    }

    /// <summary>Views of <paramref name="size"/> elements each along <paramref name="dim"/> (the last may be smaller).</summary>
    public Tensor[] Split(int size, int dim = 0)
    {
        int total = Size(dim);
        var parts = new List<Tensor>();
        for (int start = 0; start < total; start += size) parts.Add(Narrow(dim, start, Math.Min(size, total - start)));
        return parts.ToArray();
    }

    /// <summary>Joins tensors along an existing dimension.</summary>
    public static Tensor Cat(IEnumerable<Tensor> tensors, int dim = 0) => CatOp.Apply(tensors.ToArray(), dim);

    /// <summary>Joins tensors of equal shape along a new dimension.</summary>
    public static Tensor Stack(IEnumerable<Tensor> tensors, int dim = 0)
    {
        var list = tensors.ToArray();
        if (list.Length == 0) throw new ArgumentException("Stack: needs at least one tensor.");
        int d = Shape.NormalizeDim(dim, list[0].Rank + 1);
        return CatOp.Apply(list.Select(t => t.Unsqueeze(d)).ToArray(), d);
    }

    /// <summary>The slices of <paramref name="dim"/> named by a 1-D Int64 <paramref name="index"/>, in its order.</summary>
    public Tensor IndexSelect(int dim, Tensor index) => IndexSelectOp.Apply(this, Shape.NormalizeDim(dim, Rank), index);

    /// <summary>A copy with <paramref name="source"/>'s slices added at <paramref name="index"/> along <paramref name="dim"/>.</summary>
    public Tensor IndexAdd(int dim, Tensor index, Tensor source) => IndexAddOp.Apply(this, Shape.NormalizeDim(dim, Rank), index, source);

    /// <summary>result[…, j, …] = this[…, index[…, j, …], …] along <paramref name="dim"/>.</summary>
    public Tensor Gather(int dim, Tensor index) => GatherOp.Apply(this, Shape.NormalizeDim(dim, Rank), index);

    /// <summary>A copy with each <paramref name="source"/> element added at the position <paramref name="index"/> names along <paramref name="dim"/>.</summary>
    public Tensor ScatterAdd(int dim, Tensor index, Tensor source) => ScatterAddOp.Apply(this, Shape.NormalizeDim(dim, Rank), index, source);

    /// <summary>One-hot rows of width <paramref name="classes"/> for Int64 labels, in <paramref name="dtype"/>.</summary>
    public Tensor OneHot(int classes, DType dtype = DType.Float32)
    {
        if (DType != DType.Int64) throw new NotSupportedException($"OneHot: labels must be int64; got {DType.DisplayName()}.");
        var result = Zeros([.. Sizes, classes], dtype, Device);
        var index = Unsqueeze(-1);
        return result.ScatterAdd(-1, index, OnesLike(index).To(dtype));
    }

    private int[] InferShape(int[] shape, string op)
    {
        var sizes = (int[])shape.Clone();
        int infer = -1, known = 1;
        for (int i = 0; i < sizes.Length; i++)
        {
            if (sizes[i] == -1)
            {
                if (infer >= 0) throw new ArgumentException($"{op}: only one dimension can be −1 in {Shape.Format(shape)}.");
                infer = i;
            }
            else if (sizes[i] < 0) throw new ArgumentException($"{op}: invalid size {sizes[i]} in {Shape.Format(shape)}.");
            else known *= sizes[i];
        }
        int n = NumElements;
        if (infer >= 0)
        {
            if (known == 0 || n % known != 0)
                throw new ShapeMismatchException(op, $"shape {Shape.Format(shape)} is invalid for a tensor of shape {Shape} ({n} elements)");
            sizes[infer] = n / known;
        }
        else if (known != n)
            throw new ShapeMismatchException(op, $"shape {Shape.Format(shape)} ({known} elements) is invalid for a tensor of shape {Shape} ({n} elements)");
        return sizes;
    }

    /// <summary>
    /// Strides that show the same elements in <paramref name="newSizes"/> without copying, or null if there are none.
    /// Dims of the old layout are grouped into runs that are contiguous with each other; each run must map onto whole
    /// new dims.
    /// </summary>
    internal static int[]? ViewStrides(int[] oldSizes, int[] oldStrides, int[] newSizes)
    {
        int numel = Shape.CountElements(oldSizes);
        if (numel == 0 || StridedView.ComputeIsContiguous(oldSizes, oldStrides)) return Shape.ContiguousStrides(newSizes);
        var newStrides = new int[newSizes.Length];
        int viewD = newSizes.Length - 1;
        int chunkBaseStride = oldStrides.Length > 0 ? oldStrides[^1] : 1;
        long tensorNumel = 1, viewNumel = 1;
        for (int tensorD = oldSizes.Length - 1; tensorD >= 0; tensorD--)
        {
            tensorNumel *= oldSizes[tensorD];
            if (tensorD == 0 || (oldSizes[tensorD - 1] != 1 && oldStrides[tensorD - 1] != tensorNumel * chunkBaseStride))
            {
                while (viewD >= 0 && (viewNumel < tensorNumel || newSizes[viewD] == 1))
                {
                    newStrides[viewD] = (int)(viewNumel * chunkBaseStride);
                    viewNumel *= newSizes[viewD];
                    viewD--;
                }
                if (viewNumel != tensorNumel) return null;
                if (tensorD > 0)
                {
                    chunkBaseStride = oldStrides[tensorD - 1];
                    tensorNumel = 1;
                    viewNumel = 1;
                }
            }
        }
        if (viewD != -1) return null;
        return newStrides;
    }
}
