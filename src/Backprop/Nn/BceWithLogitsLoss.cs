namespace Backprop.Nn;

/// <summary>Binary cross-entropy of logits, computed stably; see <see cref="Functional.BinaryCrossEntropyWithLogits"/>.</summary>
public sealed class BceWithLogitsLoss : Loss
{
    public BceWithLogitsLoss(Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        RegisterBuffer("weight", weight);
        RegisterBuffer("pos_weight", posWeight);
    }

    /// <summary>Rescales each element's loss (a buffer, broadcast to the input), or null.</summary>
    public Tensor? Weight => GetBuffer("weight");

    /// <summary>Weight of the positive term per class (a buffer), or null.</summary>
    public Tensor? PosWeight => GetBuffer("pos_weight");

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.BinaryCrossEntropyWithLogits(input, target, Weight, PosWeight, Reduction);
}
