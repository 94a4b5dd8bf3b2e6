using Backprop.Ops;

namespace Backprop;

// Scans, sorts, order statistics and the reordering ops (flip, roll, repeat, tile), with PyTorch's semantics. The
// values of sort, topk, kthvalue, median(dim) and mode are gathered at the indices the kernels find, so their gradient
// is scattered back to those positions (PyTorch's value_selecting_reduction_backward).
public partial class Tensor
{
    /// <summary>Running sums along <paramref name="dim"/> (torch.cumsum). Float32 accumulates in float64.</summary>
    public Tensor Cumsum(int dim) => OnAtLeastOneDim(dim, "Cumsum", (t, d) => CumsumOp.Apply(t, d));

    /// <summary>Running products along <paramref name="dim"/> (torch.cumprod); the gradient is exact with zeros in the input.</summary>
    public Tensor Cumprod(int dim) => OnAtLeastOneDim(dim, "Cumprod", (t, d) => CumprodOp.Apply(t, d));

    /// <summary>
    /// Sorts along <paramref name="dim"/> (torch.sort): the values and their Int64 positions in this tensor. The sort
    /// is always stable (so <paramref name="stable"/> only documents intent); NaN sorts as the largest value.
    /// </summary>
    public (Tensor Values, Tensor Indices) Sort(int dim = -1, bool descending = false, bool stable = false)
    {
        var indices = Argsort(dim, descending, stable);
        return (GatherAlong(dim, indices), indices);
    }

    /// <summary>
    /// The Int64 positions that sort this tensor along <paramref name="dim"/> (torch.argsort), NaN as the largest
    /// value. The sort is always stable: <paramref name="stable"/> is there for PyTorch's signature, and the stable
    /// order is one of those an unstable sort may return.
    /// </summary>
    public Tensor Argsort(int dim = -1, bool descending = false, bool stable = false) =>
        OnAtLeastOneDim(dim, "Argsort", (t, d) =>
        {
            var indices = Empty(t.Sizes, DType.Int64, t.Backend);
            t.Backend.Argsort(t.Strided, d, descending, indices.Strided);
            return indices;
        });

    /// <summary>
    /// The <paramref name="k"/> largest (or smallest) elements along <paramref name="dim"/> and their Int64 positions
    /// (torch.topk). They come in sorted order whatever <paramref name="sorted"/> says (PyTorch leaves the order
    /// unspecified when it is false); equal values keep their order; NaN counts as the largest value.
    /// </summary>
    public (Tensor Values, Tensor Indices) TopK(int k, int dim = -1, bool largest = true, bool sorted = true)
    {
        int size = Rank == 0 ? 1 : Size(dim);
        if (k < 0 || k > size)
            throw new ArgumentOutOfRangeException(nameof(k), $"TopK: k = {k} is out of range for dimension {dim} of size {size} (shape {Shape}).");
        int d = Rank == 0 ? 0 : Shape.NormalizeDim(dim, Rank);
        var indices = Argsort(dim, descending: largest);
        if (Rank > 0) indices = indices.Narrow(d, 0, k).Contiguous();
        return (GatherAlong(dim, indices), indices);
    }

    /// <summary>
    /// The <paramref name="k"/>-th smallest element (1-based) along <paramref name="dim"/> and its Int64 position
    /// (torch.kthvalue); NaN counts as the largest value.
    /// </summary>
    public (Tensor Values, Tensor Indices) Kthvalue(int k, int dim = -1, bool keepDim = false)
    {
        int size = Rank == 0 ? 1 : Size(dim);
        if (k < 1 || k > size)
            throw new ArgumentOutOfRangeException(nameof(k), $"Kthvalue: k = {k} is out of range for dimension {dim} of size {size} (shape {Shape}).");
        return SelectAtRank(dim, keepDim, k - 1, propagateNaN: false);
    }

    /// <summary>
    /// The lower median of all elements, ⌊(n − 1)/2⌋-th in ascending order (torch.median): NaN if any element is
    /// NaN, NaN for an empty tensor. Its gradient is shared evenly by the elements equal to it.
    /// </summary>
    public Tensor Median() => MedianOp.Apply(this);

    /// <summary>
    /// The lower median along <paramref name="dim"/> and its Int64 position (torch.median(dim)). A slice with a NaN
    /// has median NaN, at the position of its first NaN.
    /// </summary>
    public (Tensor Values, Tensor Indices) Median(int dim, bool keepDim = false)
    {
        int size = Rank == 0 ? 1 : Size(dim);
        if (size == 0)
            throw new ArgumentException($"Median: cannot take the median over dimension {dim} of size 0 (shape {Shape}).");
        return SelectAtRank(dim, keepDim, (size - 1) / 2, propagateNaN: true);
    }

    /// <summary>
    /// The most frequent value along <paramref name="dim"/> and an Int64 position of it (torch.mode): the smallest
    /// such value on a tie, at its last position.
    /// </summary>
    public (Tensor Values, Tensor Indices) Mode(int dim = -1, bool keepDim = false) =>
        SelectAlong(dim, keepDim, "Mode", (t, d, index) => t.Backend.ModeIndex(t.Strided, d, index.Strided));

    /// <summary>A copy with the order of each dimension in <paramref name="dims"/> reversed (torch.flip).</summary>
    public Tensor Flip(params int[] dims)
    {
        var normalized = DistinctDims(dims, "Flip");
        return FlipOp.Apply(this, normalized);
    }

    /// <summary>Rotates the flattened elements by <paramref name="shifts"/> and restores the shape (torch.roll without dims).</summary>
    public Tensor Roll(int shifts) => Reshape(-1).Roll(shifts, 0).Reshape(Sizes);

    /// <summary>Rotates along <paramref name="dim"/>: element i moves to (i + <paramref name="shifts"/>) mod size (torch.roll).</summary>
    public Tensor Roll(int shifts, int dim) => Roll([shifts], [dim]);

    /// <summary>Rotates along each of <paramref name="dims"/> by the matching shift (torch.roll with tuples).</summary>
    public Tensor Roll(int[] shifts, int[] dims)
    {
        if (shifts.Length != dims.Length || dims.Length == 0)
            throw new ArgumentException($"Roll: needs one shift per dim; got shifts {Shape.Format(shifts)} and dims {Shape.Format(dims)}.");
        if (Rank == 0) throw new ArgumentException("Roll: a 0-d tensor has no dimension to roll; use Roll(shifts) without dims.");
        var result = this;
        for (int i = 0; i < dims.Length; i++)
        {
            int d = Shape.NormalizeDim(dims[i], Rank), size = Sizes[d];
            result = RollOp.Apply(result, d, size == 0 ? 0 : ((shifts[i] % size) + size) % size);
        }
        return result;
    }

    /// <summary>
    /// Tiles this tensor <paramref name="repeats"/>[i] times along dim i (torch.Tensor.repeat). There may be more
    /// repeats than dims: the tensor is first viewed with leading dims of size 1.
    /// </summary>
    public Tensor Repeat(params int[] repeats)
    {
        if (repeats.Length < Rank)
            throw new ArgumentException($"Repeat: {repeats.Length} repeats are fewer than the {Rank} dims of shape {Shape}.");
        if (repeats.Any(r => r < 0)) throw new ArgumentException($"Repeat: repeats must be non-negative; got {Shape.Format(repeats)}.");
        int lead = repeats.Length - Rank;
        // Each dim i becomes the pair (repeats[i], size[i]); expanding the first and merging the pair tiles the dim.
        var pairs = new int[2 * repeats.Length];
        var expanded = new int[2 * repeats.Length];
        var result = new int[repeats.Length];
        for (int i = 0; i < repeats.Length; i++)
        {
            int size = i < lead ? 1 : Sizes[i - lead];
            (pairs[2 * i], pairs[2 * i + 1]) = (1, size);
            (expanded[2 * i], expanded[2 * i + 1]) = (repeats[i], size);
            result[i] = repeats[i] * size;
        }
        return Reshape(pairs).ExpandTo(expanded).Reshape(result);
    }

    /// <summary>torch.tile: like <see cref="Repeat"/>, but fewer <paramref name="dims"/> than the rank repeat the last dims.</summary>
    public Tensor Tile(params int[] dims) =>
        Repeat(dims.Length >= Rank ? dims : [.. Enumerable.Repeat(1, Rank - dims.Length), .. dims]);

    private int[] DistinctDims(int[] dims, string op)
    {
        var normalized = new int[dims.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            normalized[i] = Rank == 0 ? Shape.NormalizeDim(dims[i], 1) : Shape.NormalizeDim(dims[i], Rank);
            if (normalized.AsSpan(0, i).Contains(normalized[i]))
                throw new ArgumentException($"{op}: dimension {dims[i]} appears twice in {Shape.Format(dims)}.");
        }
        return Rank == 0 ? [] : normalized;
    }

    /// <summary>Runs a dim-wise op; a 0-d tensor is treated as one element along dim 0 or −1, as PyTorch does.</summary>
    private Tensor OnAtLeastOneDim(int dim, string op, Func<Tensor, int, Tensor> apply)
    {
        if (Rank > 0) return apply(this, Shape.NormalizeDim(dim, Rank));
        if (dim is not (0 or -1)) throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: dimension {dim} is out of range for a 0-d tensor.");
        return apply(Reshape(1), 0).Reshape();
    }

    /// <summary>The elements at <paramref name="indices"/> along <paramref name="dim"/>, differentiably.</summary>
    private Tensor GatherAlong(int dim, Tensor indices) =>
        Rank == 0 ? Reshape(1).Gather(0, indices.Reshape(1)).Reshape() : Gather(Shape.NormalizeDim(dim, Rank), indices);

    private (Tensor Values, Tensor Indices) SelectAtRank(int dim, bool keepDim, int rank, bool propagateNaN) =>
        SelectAlong(dim, keepDim, "RankIndex", (t, d, index) => t.Backend.RankIndex(t.Strided, d, rank, propagateNaN, index.Strided));

    /// <summary>One element per slice along dim, chosen by a kernel that writes its position into a keep-dim index.</summary>
    private (Tensor Values, Tensor Indices) SelectAlong(int dim, bool keepDim, string op, Action<Tensor, int, Tensor> findIndex)
    {
        if (Rank == 0)
        {
            if (dim is not (0 or -1)) throw new ArgumentOutOfRangeException(nameof(dim), $"{op}: dimension {dim} is out of range for a 0-d tensor.");
            var (values, indices) = Reshape(1).SelectAlong(0, keepDim: false, op, findIndex);
            return (values.Reshape(), indices.Reshape());
        }
        int d = Shape.NormalizeDim(dim, Rank);
        var keep = (int[])Sizes.Clone();
        keep[d] = 1;
        var index = Empty(keep, DType.Int64, Backend);
        findIndex(this, d, index);
        var selected = Gather(d, index);
        return keepDim ? (selected, index) : (selected.Squeeze(d), index.Squeeze(d));
    }
}
