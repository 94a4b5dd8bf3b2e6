using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class ErfinvOp : Node, IGradchecked
{
    private static readonly double HalfSqrtPi = Math.Sqrt(Math.PI) / 2;

    private ErfinvOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Erfinv, x);
        return Autograd.IsRecording(x) ? new ErfinvOp(x, y).Attach(y) : y;
    }

    // erfinv′(x) = 1 / erf′(erfinv x) = (√π/2)·exp(erfinv(x)²): the saved output; +Inf at ±1.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var y = Saved(0);
        grads[0] = g * (y * y).Exp() * HalfSqrtPi;
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * (y * y).Exp() * HalfSqrtPi;

    // Scaled into (−0.9, 0.9), inside the domain and clear of the infinite ends.
    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Erfinv", x => (x[0] * 0.45).Erfinv(), [3, 4]),
        new("Erfinv transposed", x => (x[0] * 0.45).Erfinv(), GradcheckInput.Transposed(2, 3)),
    ];
}
