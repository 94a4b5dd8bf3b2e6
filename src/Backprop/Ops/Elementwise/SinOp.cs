using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class SinOp : Node, IGradchecked
{
    private SinOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Sin, x);
        return Autograd.IsRecording(x) ? new SinOp(x, x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * Saved(0).Cos();

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * x[0].Cos();

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Sin", x => x[0].Sin(), [3, 4]),
    ];
}
