using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class IndexSelectOp : Node, IGradchecked
{
    private readonly int _dim;
    private readonly int[] _inputSizes;

    private IndexSelectOp(Tensor x, int dim, Tensor index) : base(x)
    {
        _dim = dim;
        _inputSizes = x.Sizes;
        Save(index);
    }

    public static Tensor Apply(Tensor x, int dim, Tensor index)
    {
        Tensor.CheckSameDevice("IndexSelect", x, ("index", index));
        if (index.DType != DType.Int64 || index.Rank > 1)
            throw new ArgumentException($"IndexSelect: the index must be a 1-D int64 tensor; got {index.DType.DisplayName()} of shape {index.Shape}.");
        var flat = index.Rank == 0 ? index.Reshape(1) : index;
        var sizes = (int[])x.Sizes.Clone();
        sizes[dim] = flat.Sizes[0];
        var y = Tensor.Empty(sizes, x.DType, x.Backend);
        x.Backend.IndexSelect(x.Strided, dim, flat.Strided, y.Strided);
        return Autograd.IsRecording(x) ? new IndexSelectOp(x, dim, flat).Attach(y) : y;
    }

    // Each selected slice's gradient is added back where it came from (repeated indices add up).
    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = IndexAddOp.Apply(Tensor.Zeros(Shape.Wrap(_inputSizes), g.DType, g.Device), _dim, Saved(0), g);

    private static readonly Tensor Rows = Tensor.FromArray(new long[] { 2, 0, 2, 1 });

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _dim, Saved(0));

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("IndexSelect rows with repeats", x => x[0].IndexSelect(0, Rows), [3, 4]),
        new("IndexSelect columns transposed", x => x[0].IndexSelect(1, Rows), GradcheckInput.Transposed(2, 3)),
        // Advanced indexing through the indexer gathers with IndexSelect.
        new("Indexer index tensors broadcast", x => x[0][Rows.Reshape(4, 1), Columns], GradcheckInput.Transposed(4, 3)),
        new("Indexer non-adjacent index tensors", x => x[0][Columns, .., Columns], [3, 2, 3]),
        new("Indexer mask", x => x[0][TensorIndex.Mask(Mask)], GradcheckInput.Strided(2, 3)),
        new("Indexer reversed slice", x => x[0][TensorIndex.Slice(null, null, -1), TensorIndex.NewAxis, 1], [3, 2]),
    ];

    private static readonly Tensor Columns = Tensor.FromArray(new long[] { -1, 0 });
    private static readonly Tensor Mask = Tensor.FromArray(new double[,] { { 0, 1, 1 }, { 1, 0, 0 } });
}
