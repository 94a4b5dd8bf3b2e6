namespace Backprop.Nn;

/// <summary>Smooth L1: Huber loss divided by <see cref="Beta"/>; see <see cref="Functional.SmoothL1Loss"/>.</summary>
public sealed class SmoothL1Loss : Loss
{
    public SmoothL1Loss(double beta = 1.0, Reduction reduction = Reduction.Mean) : base(reduction) => Beta = beta;

    /// <summary>Where the loss turns from quadratic to linear (0 gives L1).</summary>
    public double Beta { get; }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.SmoothL1Loss(input, target, Reduction, Beta);
}
