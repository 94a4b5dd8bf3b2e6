using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// Σx over some dims, optionally divided by a constant before the result is rounded: means, variances and loss means
/// are sums divided by a count, and dividing in float64 inside the kernel makes the mean of a constant row exactly
/// that constant (docs/architecture.md, Note [Accurate reductions]).
/// </summary>
internal sealed class SumOp : Node, IGradchecked
{
    private readonly int[] _inputSizes;
    private readonly int[] _keptSizes;
    private readonly double _divisor;
    private readonly bool[] _reduced;

    private SumOp(Tensor x, bool[] reduced, int[] keptSizes, double divisor) : base(x)
    {
        _reduced = reduced;
        _inputSizes = x.Sizes;
        _keptSizes = keptSizes;
        _divisor = divisor;
    }

    /// <param name="reduced">Which dims to sum over.</param>
    /// <param name="divisor">What the sum is divided by (a count, for a mean); 0 gives NaN for an empty sum, as 0 / 0.</param>
    public static Tensor Apply(Tensor x, bool[] reduced, bool keepDim, double divisor = 1)
    {
        // As PyTorch: bool and int32 sum in int64 (a count of trues, a sum that does not overflow at 2³¹).
        if (x.DType is DType.Bool or DType.Int32) x = x.To(DType.Int64);
        // Integer sums stay exact integers; their mean is the float32 quotient, as integer division gives elsewhere.
        if (divisor != 1 && !x.DType.IsFloatingPoint()) return Apply(x, reduced, keepDim) / divisor;
        var keep = new int[x.Rank];
        for (int d = 0; d < x.Rank; d++) keep[d] = reduced[d] ? 1 : x.Sizes[d];
        var kept = Tensor.Empty(keep, x.DType, x.Backend);
        x.Backend.Sum(x.Strided, kept.Strided, divisor);
        var y = keepDim ? kept : Squeezed(kept, reduced);
        return Autograd.IsRecording(x) ? new SumOp(x, reduced, kept.Sizes, divisor).Attach(y) : y;
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

    // Every summed element receives the output's gradient (over the divisor): reshape to the kept dims, then
    // broadcast back.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var kept = g.Reshape(_keptSizes);
        grads[0] = (_divisor == 1 ? kept : kept / _divisor).ExpandTo(_inputSizes);
    }

    // Linear: the same sum of the tangent.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _reduced, keepDim: true, _divisor).Reshape(y.Sizes);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Sum all", x => x[0].Sum(), [3, 4]),
        new("Sum dim", x => x[0].Sum(1), [3, 4]),
        new("Sum dim keepDim", x => x[0].Sum(0, keepDim: true), [3, 4]),
        new("Sum dims", x => x[0].Sum([0, 2]), [2, 3, 4]),
        new("Sum transposed", x => x[0].Sum(-1), GradcheckInput.Transposed(3, 4)),
        new("Mean all", x => x[0].Mean(), GradcheckInput.Strided(3, 4)),
        new("Mean dim", x => x[0].Mean(1, keepDim: true), [2, 5]),
        new("Mean dims transposed", x => x[0].Mean([0, 2]), GradcheckInput.Transposed(2, 3, 4)),
        new("Var", x => x[0].Var([1]), [3, 4]),
        new("Var correction 0 keepDim", x => x[0].Var([0], correction: 0, keepDim: true), GradcheckInput.Strided(4, 3)),
        new("Std all", x => x[0].Std(), [3, 4]),
        new("LogSumExp", x => x[0].LogSumExp(1), [3, 4]),
    ];
}
