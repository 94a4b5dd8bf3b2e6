using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class Log1pOp : Node, IGradchecked
{
    private Log1pOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Log1p, x);
        return Autograd.IsRecording(x) ? new Log1pOp(x, x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g / (Saved(0) + 1.0);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! / (x[0] + 1.0);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Log1p", x => x[0].Log1p(), GradcheckInput.Probability(3, 4)),
    ];
}
