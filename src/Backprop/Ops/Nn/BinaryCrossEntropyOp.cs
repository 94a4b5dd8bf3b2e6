using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// Element-wise −w[y·log p + (1 − y)·log(1 − p)], with each log clamped at −100 as PyTorch does, so p = 0 or 1
/// gives a large finite loss instead of ∞. Fused (one kernel each way) because the clamp makes a composite's gradient
/// wrong at the edges — the fused gradient w(p − y)/max(p(1 − p), 1e−12) stays finite — and because the composite's
/// dozen small ops dominated the cost of a small network's training step.
/// </summary>
internal sealed class BinaryCrossEntropyOp : Node, IGradchecked
{
    private readonly bool _weighted;

    private BinaryCrossEntropyOp(Tensor p, Tensor y, Tensor? weight) : base(p, y)
    {
        _weighted = weight is not null;
        Save(p, y, weight);
    }

    public static Tensor Apply(Tensor p, Tensor y, Tensor? weight)
    {
        Tensor.CheckSameDevice("BinaryCrossEntropy", p, ("the target", y), ("the weight", weight));
        if (p.Shape != y.Shape)
            throw new ShapeMismatchException("BinaryCrossEntropy", $"input {p.Shape} and target {y.Shape} must have the same shape");
        if (y.DType != p.DType) y = y.To(p.DType);
        var loss = Kernels.Binary(BinaryOp.BinaryCrossEntropy, p, y);
        if (weight is not null)
        {
            using (Autograd.NoGrad()) loss = loss * weight;
        }
        return Autograd.IsRecording(p, y) ? new BinaryCrossEntropyOp(p, y, weight?.Detach()).Attach(loss) : loss;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var p = Saved(0);
        var y = Saved(1);
        var scale = _weighted ? g * Saved(2) : g;
        // The fused kernel is a constant to a graph; under createGraph the same formula, (p − y)/max(p(1 − p), 1e−12), in ops.
        if (NeedsGrad(0))
            grads[0] = scale * (Autograd.BackwardRecords
                ? (p - y) / (p * (1.0 - p)).Clamp(min: 1e-12)
                : Kernels.Binary(BinaryOp.BinaryCrossEntropyGrad, p, y));
        // ∂L/∂y = log(1 − p) − log p, with the forward's clamps.
        if (NeedsGrad(1)) grads[1] = scale * ((1.0 - p).Log().Clamp(min: -100) - p.Log().Clamp(min: -100));
    }

    private static readonly Tensor Weights = Tensor.FromArray(new[] { 0.5, 2.0, 1.0, 0.0, 3.0 });

    // The backward's partials, with the forward's clamps: (p − y)/max(p(1 − p), 1e−12) and log(1 − p) − log p.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var (p, target) = (x[0], x[1]);
        var viaInput = t[0] is { } tp ? tp * ((p - target) / (p * (1.0 - p)).Clamp(min: 1e-12)) : null;
        var viaTarget = t[1] is { } tt ? tt * ((1.0 - p).Log().Clamp(min: -100) - p.Log().Clamp(min: -100)) : null;
        var tangent = ForwardAD.Plus(viaInput, viaTarget)!;
        return _weighted ? tangent * Saved(2) : tangent;
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("BinaryCrossEntropy", x => Nn.Functional.BinaryCrossEntropy(x[0], x[1]), GradcheckInput.Probability(3, 4), GradcheckInput.Probability(3, 4)),
        new("BinaryCrossEntropy weighted sum", x => Nn.Functional.BinaryCrossEntropy(x[0], x[1], weight: Weights, reduction: Nn.Reduction.Sum),
            GradcheckInput.Probability(5), GradcheckInput.Probability(5)),
        new("BinaryCrossEntropy none", x => Nn.Functional.BinaryCrossEntropy(x[0], x[1], reduction: Nn.Reduction.None),
            GradcheckInput.Probability(2, 3) with { Layout = InputLayout.Transposed }, GradcheckInput.Probability(2, 3)),
    ];
}
