using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class AtanOp : Node, IGradchecked
{
    private AtanOp(Tensor x) : base(x) => Save(x);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Atan, x);
        return Autograd.IsRecording(x) ? new AtanOp(x).Attach(y) : y;
    }

    // atan′(x) = 1 / (1 + x²).
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        grads[0] = g / (x * x + 1.0);
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! / (x[0] * x[0] + 1.0);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Atan", x => x[0].Atan(), [3, 4]),
        new("Atan strided", x => x[0].Atan(), GradcheckInput.Strided(2, 5)),
    ];
}
