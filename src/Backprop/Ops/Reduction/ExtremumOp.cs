using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>Max or min over some dims. The gradient goes to the arg-max (shared evenly by exact ties).</summary>
internal sealed class ExtremumOp : Node, IGradchecked
{
    private readonly int[] _keptSizes;
    private readonly bool[] _reduced;
    private readonly bool _max;

    private ExtremumOp(Tensor x, Tensor kept, bool[] reduced, bool max) : base(x)
    {
        _keptSizes = kept.Sizes;
        _reduced = reduced;
        _max = max;
        Save(x, kept);
    }

    public override string Name => _max ? "MaxBackward" : "MinBackward";

    public static Tensor Apply(Tensor x, bool[] reduced, bool keepDim, bool max)
    {
        // A maximum has no identity, so reducing over nothing is an error (as in PyTorch); reducing the non-empty
        // dims of an empty tensor is not: the result is empty too.
        for (int d = 0; d < x.Rank; d++)
            if (reduced[d] && x.Sizes[d] == 0)
                throw new InvalidOperationException($"{(max ? "Max" : "Min")}: cannot reduce over dimension {d} of size 0 (shape {x.Shape}); the reduction has no identity.");
        var kept = Kernels.Reduce(max ? ReduceOp.Max : ReduceOp.Min, x, reduced);
        var y = keepDim ? kept : SumOp.Squeezed(kept, reduced);
        return Autograd.IsRecording(x) ? new ExtremumOp(x, kept, reduced, max).Attach(y) : y;
    }

    // As PyTorch's evenly_distribute_backward: the elements equal to the extreme share the gradient, and where the
    // extreme is NaN (NaN propagates) the NaN elements are the ones that produced it. The rest get exact zeros.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        var extreme = Saved(1).ExpandTo(x.Sizes);
        var hits = x.Eq(extreme).Or(x.IsNaN().And(extreme.IsNaN())).To(x.DType);
        var count = SumOp.Apply(hits, _reduced, keepDim: true);
        grads[0] = Tensor.Where(hits, (g.Reshape(_keptSizes) / count).ExpandTo(x.Sizes), 0.0);
    }

    // As PyTorch's evenly distributed JVP: the mean of the tangents of the elements that the backward shares the
    // gradient among.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var input = x[0];
        var extreme = Saved(1).ExpandTo(input.Sizes);
        var hits = input.Eq(extreme).Or(input.IsNaN().And(extreme.IsNaN()));
        var count = SumOp.Apply(hits.To(input.DType), _reduced, keepDim: true);
        return (SumOp.Apply(Tensor.Where(hits, t[0]!, 0.0), _reduced, keepDim: true) / count).Reshape(y.Sizes);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Max all", x => x[0].Max(), [3, 4]),
        new("Max dim", x => x[0].Max(1), [3, 4]),
        new("Max dims keepDim", x => x[0].Max([0, 2], keepDim: true), [2, 3, 4]),
        new("Min all", x => x[0].Min(), GradcheckInput.Transposed(3, 4)),
        new("Min dim", x => x[0].Min(0), GradcheckInput.Strided(3, 4)),
        new("MaxWithIndices values", x => x[0].MaxWithIndices(1).Values, [3, 5]),
    ];
}
