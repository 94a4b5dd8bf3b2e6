using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// Sign, Floor, Ceil, Round and Trunc: functions constant between their jumps, whose gradient is zero wherever it
/// exists. As in PyTorch they record a node and pass back zeros (not "no gradient"), so a loss built only from them
/// still backpropagates, and the graph shows where the signal was cut.
/// </summary>
internal sealed class PiecewiseConstantOp : Node, IGradchecked
{
    private readonly UnaryOp _kind;

    private PiecewiseConstantOp(Tensor x, UnaryOp kind) : base(x) => _kind = kind;

    public override string Name => _kind + "Backward";

    /// <summary><paramref name="decimals"/> applies to Round only: torch.round(x, decimals=d).</summary>
    public static Tensor Apply(Tensor x, UnaryOp kind, int decimals = 0)
    {
        if (!x.DType.IsFloatingPoint())
        {
            if (decimals != 0)
                throw new NotSupportedException($"Round with decimals = {decimals} needs a floating-point tensor; this one is {x.DType.DisplayName()} " +
                    $"{Shape.Format(x.Sizes)}. Convert it with .To(DType.Float32) first (PyTorch refuses integer tensors here too).");
            // Integers are whole already: floor, ceil, round and trunc return a copy of the same dtype, as in PyTorch.
            return kind == UnaryOp.Sign ? Kernels.Unary(kind, x) : x.Clone();
        }
        var y = decimals == 0 ? Kernels.Unary(kind, x) : RoundDecimals(x, decimals);
        return Autograd.IsRecording(x) ? new PiecewiseConstantOp(x, kind).Attach(y) : y;
    }

    // PyTorch's round_decimals kernel, step for step in the tensor's dtype: with p = 10^|d| rounded to the dtype,
    // round(x·p)/p for d > 0 and round(x/p)·p for d < 0, rounding half to even.
    private static Tensor RoundDecimals(Tensor x, int decimals)
    {
        using var _ = Autograd.NoGrad();
        double scale = Math.Pow(10, Math.Abs(decimals));
        return decimals > 0 ? (x * scale).Round() / scale : (x / scale).Round() * scale;
    }

    // Zero wherever the derivative exists; PyTorch's derivatives.yaml returns zeros_like(grad) at the jumps too.
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = Tensor.ZerosLike(g);

    // A zero tangent (not none), as PyTorch's zeros_like(self_t).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Tensor.ZerosLike(y);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Sign", x => x[0].Sign() * x[0], GradcheckInput.NonZero(3, 4)),
        new("Floor", x => x[0].Floor(), [3, 4]),
        new("Ceil transposed", x => x[0].Ceil(), GradcheckInput.Transposed(3, 4)),
        new("Round strided", x => x[0].Round(), GradcheckInput.Strided(2, 3)),
        new("Round decimals", x => x[0].Round(decimals: 1) + x[0].Round(decimals: -1), [5]),
        new("Trunc", x => x[0].Trunc(), [3, 4]),
    ];
}
