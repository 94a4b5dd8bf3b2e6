using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class Expm1Op : Node, IGradchecked
{
    private Expm1Op(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Expm1, x);
        return Autograd.IsRecording(x) ? new Expm1Op(x, y).Attach(y) : y;
    }

    // (eˣ − 1)′ = eˣ = y + 1: the saved output, as PyTorch's derivatives.yaml.
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * (Saved(0) + 1.0);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * (y + 1.0);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Expm1", x => x[0].Expm1(), [3, 4]),
        new("Expm1 transposed", x => x[0].Expm1(), GradcheckInput.Transposed(3, 4)),
    ];
}
