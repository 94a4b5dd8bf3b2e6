using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class AsinOp : Node, IGradchecked
{
    private AsinOp(Tensor x) : base(x) => Save(x);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Asin, x);
        return Autograd.IsRecording(x) ? new AsinOp(x).Attach(y) : y;
    }

    // asin′(x) = 1/√(1 − x²): +Inf at ±1 and NaN beyond, as PyTorch's (1 − x²).rsqrt().
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        grads[0] = g / (1.0 - x * x).Sqrt();
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! / (1.0 - x[0] * x[0]).Sqrt();

    // Scaled into (−0.9, 0.9), inside the domain and clear of its ends.
    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Asin", x => (x[0] * 0.45).Asin(), [3, 4]),
        new("Asin transposed", x => (x[0] * 0.45).Asin(), GradcheckInput.Transposed(3, 2)),
    ];
}
