using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class SigmoidOp : Node, IGradchecked
{
    private SigmoidOp(Tensor x, Tensor y) : base(x) => Save(y);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Sigmoid, x);
        return Autograd.IsRecording(x) ? new SigmoidOp(x, y).Attach(y) : y;
    }

    // σ′(x) = σ(x)(1 − σ(x)), from the saved output.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var y = Saved(0);
        // One fused kernel normally; tensor ops when a graph of the gradient is being built (double backward).
        grads[0] = Autograd.BackwardRecords ? g * y * (1.0 - y) : Kernels.Binary(BinaryOp.SigmoidGrad, g, y);
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * y * (1.0 - y);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Sigmoid", x => x[0].Sigmoid(), [3, 4]),
        new("Sigmoid strided", x => x[0].Sigmoid(), GradcheckInput.Strided(2, 5)),
    ];
}
