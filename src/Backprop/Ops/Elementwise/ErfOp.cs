using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class ErfOp : Node, IGradchecked
{
    private ErfOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Erf, x);
        return Autograd.IsRecording(x) ? new ErfOp(x, x).Attach(y) : y;
    }

    // erf′(x) = 2/√π · e^(−x²).
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        grads[0] = g * (2.0 / Math.Sqrt(Math.PI)) * (-(x * x)).Exp();
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * (2.0 / Math.Sqrt(Math.PI)) * (-(x[0] * x[0])).Exp();

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Erf", x => x[0].Erf(), [3, 4]),
    ];
}
