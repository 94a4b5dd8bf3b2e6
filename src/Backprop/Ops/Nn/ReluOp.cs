using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class ReluOp : Node, IGradchecked
{
    // The output is saved rather than the input: y > 0 exactly where x > 0, and ReLU′(0) = 0 either way.
    private ReluOp(Tensor x, Tensor y) : base(x) => Save(y);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Relu, x);
        return Autograd.IsRecording(x) ? new ReluOp(x, y).Attach(y) : y;
    }

    // One fused kernel normally; tensor ops when a graph of the gradient is being built (double backward).
    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = Autograd.IsGradEnabled ? g * Saved(0).Step() : Kernels.Binary(BinaryOp.ReluGrad, g, Saved(0));

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Relu", x => x[0].Relu(), GradcheckInput.NonZero(3, 4)),
        new("Relu transposed", x => x[0].Relu(), GradcheckInput.NonZero(3, 4) with { Layout = InputLayout.Transposed }),
    ];
}
