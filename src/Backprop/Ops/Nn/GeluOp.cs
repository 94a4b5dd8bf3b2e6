using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class GeluOp : Node, IGradchecked
{
    private GeluOp(Tensor x) : base(x) => Save(x);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Gelu, x);
        return Autograd.IsRecording(x) ? new GeluOp(x).Attach(y) : y;
    }

    // (x·Φ(x))′ = Φ(x) + x·φ(x), with Φ(x) = ½(1 + erf(x/√2)) and φ(x) = e^(−x²/2)/√(2π). x·φ(x) → 0 as |x| → ∞,
    // but evaluated at ±∞ it is ∞·0 = NaN, so it is taken at 0 there instead (GELU′ is then 1 at +∞ and 0 at −∞).
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * Slope(Saved(0));

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * Slope(x[0]);

    private static Tensor Slope(Tensor x)
    {
        var cdf = ((x * (1.0 / Math.Sqrt(2.0))).Erf() + 1.0) * 0.5;
        var finite = Tensor.Where(x.Abs().Lt(double.PositiveInfinity), x, 0.0);
        var pdf = (finite * finite * -0.5).Exp() * (1.0 / Math.Sqrt(2.0 * Math.PI));
        return cdf + finite * pdf;
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Gelu", x => x[0].Gelu(), [3, 4]),
        new("Gelu transposed", x => x[0].Gelu(), GradcheckInput.Transposed(2, 3)),
    ];
}
