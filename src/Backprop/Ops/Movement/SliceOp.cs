using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>A strided window of one dim (narrow, slice, select, indexing): a view.</summary>
internal sealed class SliceOp : Node, IGradchecked
{
    private readonly int[] _inputSizes;
    private readonly int _dim, _start, _step;

    private SliceOp(Tensor x, int dim, int start, int step) : base(x)
    {
        _inputSizes = x.Sizes;
        _dim = dim;
        _start = start;
        _step = step;
    }

    public static Tensor Apply(Tensor x, int dim, int start, int length, int step)
    {
        if (start < 0 || length < 0 || (length > 0 && start + (length - 1) * step >= x.Sizes[dim]))
            throw new IndexOutOfRangeException($"Slice: {length} elements from {start} with step {step} do not fit dimension {dim} of size {x.Sizes[dim]}.");
        var sizes = (int[])x.Sizes.Clone();
        var strides = (int[])x.StrideArray.Clone();
        sizes[dim] = length;
        strides[dim] *= step;
        // An empty window addresses no element, so it keeps the input's offset rather than one past the storage's end.
        int offset = length == 0 || x.NumElements == 0 ? x.Offset : x.Offset + start * x.StrideArray[dim];
        var y = new Tensor(x.Storage, sizes, strides, offset, x);
        return Autograd.IsRecording(x) ? new SliceOp(x, dim, start, step).Attach(y) : y;
    }

    // The slice's gradient lands in its window of an otherwise zero tensor.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var full = SliceScatterOp.Apply(g, _inputSizes, _dim, _start, _step);
        // A fresh tensor no one else sees (unless backward records a graph), so later slices may add into it in place.
        if (!Autograd.BackwardRecords) full.IsExclusiveGradient = true;
        grads[0] = full;
    }

    // Adds into the window of the gradient gathered so far: exact, as adding the zero-padded tensor would be.
    internal override bool TryBackwardInto(Tensor g, Tensor inputGradient)
    {
        if (!inputGradient.IsContiguous || inputGradient.DType != g.DType || !inputGradient.Sizes.AsSpan().SequenceEqual(_inputSizes))
            return false;
        var window = Apply(inputGradient, _dim, _start, g.Sizes[_dim], _step);
        g.Backend.Binary(BinaryOp.Add, window.Strided, g.Strided, window.Strided);
        return true;
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _dim, _start, y.Sizes[_dim], _step);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Narrow", x => x[0].Narrow(1, 1, 2), [3, 4]),
        new("Slice with step", x => x[0].Slice(0, 1, 6, step: 2), [7, 2]),
        new("Select", x => x[0].Select(1, -1), [3, 4]),
        new("Indexer", x => x[0][1.., ^1] * x[0][..2, 0], [3, 4]),
        new("Diagonal", x => x[0].Diagonal(), [2, 3, 3]),
        new("Diagonal offset transposed", x => x[0].Diagonal(-1), GradcheckInput.Transposed(4, 3)),
        new("Split and recombine", x => x[0].Split(2, 1)[0] * x[0].Split(2, 1)[1], GradcheckInput.Transposed(3, 4)),
    ];
}
