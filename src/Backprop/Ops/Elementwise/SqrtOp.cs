using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class SqrtOp : Node, IGradchecked
{
    private SqrtOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Sqrt, x);
        return Autograd.IsRecording(x) ? new SqrtOp(x, y).Attach(y) : y;
    }

    // (√x)′ = 1 / (2√x): the saved output.
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * 0.5 / Saved(0);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * 0.5 / y;

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Sqrt", x => x[0].Sqrt(), GradcheckInput.Positive(3, 4)),
        new("Sqrt transposed", x => x[0].Sqrt(), GradcheckInput.Positive(3, 4) with { Layout = InputLayout.Transposed }),
    ];
}
