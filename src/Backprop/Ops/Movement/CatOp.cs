using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>Tensors joined along one dim; each input's gradient is its window of the output's gradient.</summary>
internal sealed class CatOp : Node, IGradchecked
{
    private readonly int _dim;
    private readonly int[] _sizes;

    private CatOp(Tensor[] inputs, int dim) : base(inputs)
    {
        _dim = dim;
        _sizes = inputs.Select(t => t.Sizes[dim]).ToArray();
    }

    public static Tensor Apply(Tensor[] inputs, int dim)
    {
        if (inputs.Length == 0) throw new ArgumentException("Cat: needs at least one tensor.");
        var first = inputs[0];
        int d = Shape.NormalizeDim(dim, Math.Max(first.Rank, 1));
        if (first.Rank == 0) throw new ShapeMismatchException("Cat", "scalars cannot be concatenated; use Stack");
        int total = 0;
        foreach (var t in inputs)
        {
            if (t.Rank != first.Rank || Enumerable.Range(0, first.Rank).Any(i => i != d && t.Sizes[i] != first.Sizes[i]))
                throw new ShapeMismatchException("Cat", $"shapes {first.Shape} and {t.Shape} differ outside dimension {d}");
            if (t.DType != first.DType) throw new ArgumentException($"Cat: dtypes {first.DType.DisplayName()} and {t.DType.DisplayName()} differ.");
            if (t.Device != first.Device) throw new ArgumentException($"Cat: devices {first.Device} and {t.Device} differ.");
            total += t.Sizes[d];
        }
        var sizes = (int[])first.Sizes.Clone();
        sizes[d] = total;
        var y = Tensor.Empty(sizes, first.DType, first.Backend);
        int offset = 0;
        foreach (var t in inputs)
        {
            if (t.Sizes[d] > 0)
                t.Backend.Copy(t.Strided, SliceOp.Apply(y.Detach(), d, offset, t.Sizes[d], 1).Strided);
            offset += t.Sizes[d];
        }
        return Autograd.IsRecording(inputs) ? new CatOp(inputs, d).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        int offset = 0;
        for (int i = 0; i < _sizes.Length; i++)
        {
            if (NeedsGrad(i)) grads[i] = g.Narrow(_dim, offset, _sizes[i]);
            offset += _sizes[i];
        }
    }

    // The tangents joined the same way (zeros for inputs without one).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(x.Select((input, i) => ForwardAD.OrZeros(t[i], input)).ToArray(), _dim);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Cat dim 0", x => Tensor.Cat([x[0], x[1]], 0), [2, 3], [4, 3]),
        new("Cat dim 1 three inputs", x => Tensor.Cat([x[0], x[1], x[2]], 1), [2, 1], GradcheckInput.Transposed(2, 3), [2, 2]),
        new("Stack", x => Tensor.Stack([x[0], x[1]], 1), [3, 2], GradcheckInput.Strided(3, 2)),
    ];
}
