using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class TanhOp : Node, IGradchecked
{
    private TanhOp(Tensor x, Tensor y) : base(x) => Save(y);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Tanh, x);
        return Autograd.IsRecording(x) ? new TanhOp(x, y).Attach(y) : y;
    }

    // tanh′(x) = 1 − tanh²(x), from the saved output.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var y = Saved(0);
        // One fused kernel normally; tensor ops when a graph of the gradient is being built (double backward).
        grads[0] = Autograd.BackwardRecords ? g * (1.0 - y * y) : Kernels.Binary(BinaryOp.TanhGrad, g, y);
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * (1.0 - y * y);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Tanh", x => x[0].Tanh(), [3, 4]),
        new("Tanh transposed", x => x[0].Tanh(), GradcheckInput.Transposed(4, 2)),
    ];
}
