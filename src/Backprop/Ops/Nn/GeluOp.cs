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

    // (x·Φ(x))′ = Φ(x) + x·φ(x), with Φ(x) = ½(1 + erf(x/√2)) and φ(x) = e^(−x²/2)/√(2π).
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        var cdf = ((x * (1.0 / Math.Sqrt(2.0))).Erf() + 1.0) * 0.5;
        var pdf = (x * x * -0.5).Exp() * (1.0 / Math.Sqrt(2.0 * Math.PI));
        grads[0] = g * (cdf + x * pdf);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Gelu", x => x[0].Gelu(), [3, 4]),
        new("Gelu transposed", x => x[0].Gelu(), GradcheckInput.Transposed(2, 3)),
    ];
}
