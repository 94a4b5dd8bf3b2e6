namespace Backprop.Nn;

/// <summary>Huber loss: quadratic within <see cref="Delta"/> of the target, linear beyond; see <see cref="Functional.HuberLoss"/>.</summary>
public sealed class HuberLoss : Loss
{
    public HuberLoss(double delta = 1.0, Reduction reduction = Reduction.Mean) : base(reduction) => Delta = delta;

    /// <summary>Where the loss turns from quadratic to linear.</summary>
    public double Delta { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.HuberLoss(input, target, Reduction, Delta);
}
