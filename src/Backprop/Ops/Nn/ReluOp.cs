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

    // g where y > 0, exactly 0 where y ≤ 0 (PyTorch's threshold_backward, which lets g through at a NaN output too).
    // One fused kernel normally; tensor ops when a graph of the gradient is being built (double backward).
    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = Autograd.BackwardRecords ? Tensor.Where(Saved(0).Le(0.0), 0.0, g) : Kernels.Binary(BinaryOp.ReluGrad, g, Saved(0));

    // The tangent where y > 0, exactly 0 elsewhere, as the backward.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Tensor.Where(y.Le(0.0), 0.0, t[0]!);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Relu", x => x[0].Relu(), GradcheckInput.NonZero(3, 4)),
        new("Relu transposed", x => x[0].Relu(), GradcheckInput.NonZero(3, 4) with { Layout = InputLayout.Transposed }),
    ];
}
