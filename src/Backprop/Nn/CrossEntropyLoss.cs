namespace Backprop.Nn;

/// <summary>Cross-entropy of class logits against Int64 class indices, with optional class weights, ignored index and label smoothing; see <see cref="Functional.CrossEntropy"/>.</summary>
public sealed class CrossEntropyLoss : Loss
{
    public CrossEntropyLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean, double labelSmoothing = 0) : base(reduction)
    {
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"CrossEntropyLoss: labelSmoothing must be in [0, 1]; got {labelSmoothing}.");
        RegisterBuffer("weight", weight);
        IgnoreIndex = ignoreIndex;
        LabelSmoothing = labelSmoothing;
    }

    /// <summary>Per-class weights [C] (a buffer), or null.</summary>
    public Tensor? Weight => GetBuffer("weight");

    /// <summary>Targets with this value contribute nothing and are not counted in the mean.</summary>
    public long IgnoreIndex { get; }

    /// <summary>ε: the share of the target spread uniformly over the classes.</summary>
    public double LabelSmoothing { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.CrossEntropy(input, target, Weight, Reduction, IgnoreIndex, LabelSmoothing);
}
