using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class SoftplusOp : Node, IGradchecked
{
    private SoftplusOp(Tensor x) : base(x) => Save(x);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Softplus, x);
        return Autograd.IsRecording(x) ? new SoftplusOp(x).Attach(y) : y;
    }

    // log(1 + eˣ)′ = σ(x).
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * Saved(0).Sigmoid();

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Softplus", x => x[0].Softplus(), [3, 4]),
        new("Softplus beta 2", x => x[0].Softplus(2.0), GradcheckInput.Strided(2, 3)),
        new("Softplus large inputs", x => (x[0] * 30.0).Softplus(), [4]),
    ];
}
