using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class TanOp : Node, IGradchecked
{
    private TanOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Tan, x);
        return Autograd.IsRecording(x) ? new TanOp(x, y).Attach(y) : y;
    }

    // tan′ = 1 + tan²: the saved output, as PyTorch's derivatives.yaml.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var y = Saved(0);
        grads[0] = g * (y * y + 1.0);
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * (y * y + 1.0);

    // Scaled into (−1.2, 1.2), clear of the poles at ±π/2.
    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Tan", x => (x[0] * 0.6).Tan(), [3, 4]),
        new("Tan transposed", x => (x[0] * 0.6).Tan(), GradcheckInput.Transposed(3, 4)),
    ];
}
