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
        if (x.NumElements == 0) throw new InvalidOperationException($"{(max ? "Max" : "Min")}: the tensor is empty.");
        var kept = Kernels.Reduce(max ? ReduceOp.Max : ReduceOp.Min, x, reduced);
        var y = keepDim ? kept : SumOp.Squeezed(kept, reduced);
        return Autograd.IsRecording(x) ? new ExtremumOp(x, kept, reduced, max).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        var extreme = Saved(1).ExpandTo(x.Sizes);
        var hits = x.Eq(extreme);
        var count = SumOp.Apply(hits, _reduced, keepDim: true);
        grads[0] = hits * (g.Reshape(_keptSizes) / count).ExpandTo(x.Sizes);
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
