namespace Backprop.Nn;

/// <summary>Negative log-likelihood of log-probabilities at Int64 class indices; see <see cref="Functional.NllLoss"/>.</summary>
public sealed class NllLoss : Loss
{
    public NllLoss(Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean) : base(reduction)
    {
        RegisterBuffer("weight", weight);
        IgnoreIndex = ignoreIndex;
    }

    /// <summary>Per-class weights [C] (a buffer), or null.</summary>
    public Tensor? Weight => GetBuffer("weight");

    /// <summary>Targets with this value contribute nothing and are not counted in the mean.</summary>
    public long IgnoreIndex { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.NllLoss(input, target, Weight, Reduction, IgnoreIndex);
}
