namespace Backprop.Nn;

/// <summary>Binary cross-entropy of probabilities; see <see cref="Functional.BinaryCrossEntropy"/>.</summary>
public sealed class BceLoss : Loss
{
    public BceLoss(Tensor? weight = null, Reduction reduction = Reduction.Mean) : base(reduction) => RegisterBuffer("weight", weight);

    /// <summary>Rescales each element's loss (a buffer, broadcast to the input), or null.</summary>
    public Tensor? Weight => GetBuffer("weight");

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.BinaryCrossEntropy(input, target, Weight, Reduction);
}
