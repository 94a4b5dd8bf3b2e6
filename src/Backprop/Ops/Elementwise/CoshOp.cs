using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class CoshOp : Node, IGradchecked
{
    private CoshOp(Tensor x) : base(x) => Save(x);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Cosh, x);
        return Autograd.IsRecording(x) ? new CoshOp(x).Attach(y) : y;
    }

    // cosh′ = sinh.
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * Saved(0).Sinh();

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * x[0].Sinh();

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Cosh", x => x[0].Cosh(), [3, 4]),
        new("Cosh strided", x => x[0].Cosh(), GradcheckInput.Strided(3, 2)),
    ];
}
