using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class AcosOp : Node, IGradchecked
{
    private AcosOp(Tensor x) : base(x) => Save(x);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Acos, x);
        return Autograd.IsRecording(x) ? new AcosOp(x).Attach(y) : y;
    }

    // acos′(x) = −1/√(1 − x²): −Inf at ±1 and NaN beyond, as PyTorch's −(1 − x²).rsqrt().
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        grads[0] = -g / (1.0 - x * x).Sqrt();
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => -t[0]! / (1.0 - x[0] * x[0]).Sqrt();

    // Scaled into (−0.9, 0.9), inside the domain and clear of its ends.
    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Acos", x => (x[0] * 0.45).Acos(), [3, 4]),
        new("Acos strided", x => (x[0] * 0.45).Acos(), GradcheckInput.Strided(4)),
    ];
}
