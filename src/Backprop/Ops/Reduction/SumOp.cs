using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class SumOp : Node, IGradchecked
{
    private readonly int[] _inputSizes;
    private readonly int[] _keptSizes;

    private SumOp(Tensor x, int[] keptSizes) : base(x)
    {
        _inputSizes = x.Sizes;
        _keptSizes = keptSizes;
    }

    /// <param name="reduced">Which dims to sum over.</param>
    public static Tensor Apply(Tensor x, bool[] reduced, bool keepDim)
    {
        var kept = Kernels.Reduce(ReduceOp.Sum, x, reduced);
        var y = keepDim ? kept : Squeezed(kept, reduced);
        return Autograd.IsRecording(x) ? new SumOp(x, kept.Sizes).Attach(y) : y;
    }

    /// <summary>The keep-dim result reinterpreted without its reduced dims (same storage, still contiguous).</summary>
    internal static Tensor Squeezed(Tensor kept, bool[] reduced)
    {
        int rank = 0;
        foreach (var r in reduced) if (!r) rank++;
        var sizes = new int[rank];
        for (int d = 0, i = 0; d < kept.Rank; d++) if (!reduced[d]) sizes[i++] = kept.Sizes[d];
        return new Tensor(kept.Storage, sizes);
    }

    // Every summed element receives the output's gradient: reshape to the kept dims, then broadcast back.
    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = g.Reshape(_keptSizes).ExpandTo(_inputSizes);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Sum all", x => x[0].Sum(), [3, 4]),
        new("Sum dim", x => x[0].Sum(1), [3, 4]),
        new("Sum dim keepDim", x => x[0].Sum(0, keepDim: true), [3, 4]),
        new("Sum dims", x => x[0].Sum([0, 2]), [2, 3, 4]),
        new("Sum transposed", x => x[0].Sum(-1), GradcheckInput.Transposed(3, 4)),
        new("Mean all", x => x[0].Mean(), GradcheckInput.Strided(3, 4)),
        new("Mean dim", x => x[0].Mean(1, keepDim: true), [2, 5]),
        new("Var", x => x[0].Var([1]), [3, 4]),
        new("Std all", x => x[0].Std(), [3, 4]),
        new("LogSumExp", x => x[0].LogSumExp(1), [3, 4]),
        new("Norm", x => x[0].Norm(), [3, 4]),
    ];
}
