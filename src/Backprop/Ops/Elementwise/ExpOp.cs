using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class ExpOp : Node, IGradchecked
{
    private ExpOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Exp, x);
        return Autograd.IsRecording(x) ? new ExpOp(x, y).Attach(y) : y;
    }

    // (eˣ)′ = eˣ: the saved output.
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * Saved(0);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * y;

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Exp", x => x[0].Exp(), [3, 4]),
        new("Exp transposed", x => x[0].Exp(), GradcheckInput.Transposed(4, 3)),
    ];
}
