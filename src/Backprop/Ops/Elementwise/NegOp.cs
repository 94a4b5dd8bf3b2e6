using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class NegOp : Node, IGradchecked
{
    private NegOp(Tensor x) : base(x) { }

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Neg, x);
        return Autograd.IsRecording(x) ? new NegOp(x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = -g;

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => -t[0]!;

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Neg", x => -x[0], [3, 4]),
        new("Neg strided", x => -x[0], GradcheckInput.Strided(2, 3)),
    ];
}
