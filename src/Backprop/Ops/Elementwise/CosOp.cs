using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class CosOp : Node, IGradchecked
{
    private CosOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Cos, x);
        return Autograd.IsRecording(x) ? new CosOp(x, x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = -g * Saved(0).Sin();

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => -t[0]! * x[0].Sin();

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Cos", x => x[0].Cos(), [3, 4]),
    ];
}
