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

    private static readonly Tensor PositiveWeights = Tensor.FromArray(new[] { 3.0, 0.5, 1.0 });
    private static readonly Tensor ElementWeights = Tensor.FromArray(new[] { 1.0, 0.0, 2.0, 0.5, 1.5, 1.0 }, 2, 3);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * x[0].Sigmoid();

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Softplus", x => x[0].Softplus(), [3, 4]),
        new("Softplus beta 2", x => x[0].Softplus(2.0), GradcheckInput.Strided(2, 3)),
        new("Softplus large inputs", x => (x[0] * 30.0).Softplus(), [4]),
        // Binary cross-entropy with logits is softplus composed with products.
        new("BinaryCrossEntropyWithLogits", x => Nn.Functional.BinaryCrossEntropyWithLogits(x[0], x[1]),
            [3, 4], GradcheckInput.Probability(3, 4)),
        new("BinaryCrossEntropyWithLogits posWeight weight", x => Nn.Functional.BinaryCrossEntropyWithLogits(x[0], x[1],
            ElementWeights, PositiveWeights), GradcheckInput.Transposed(2, 3), GradcheckInput.Probability(2, 3)),
        new("BinaryCrossEntropyWithLogits posWeight none", x => Nn.Functional.BinaryCrossEntropyWithLogits(x[0], x[1],
            posWeight: PositiveWeights, reduction: Nn.Reduction.None), [2, 3], GradcheckInput.Probability(2, 3)),
    ];
}
