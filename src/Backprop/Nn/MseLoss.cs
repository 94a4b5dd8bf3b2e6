namespace Backprop.Nn;

/// <summary>Squared error (x − y)², see <see cref="Functional.MseLoss"/>.</summary>
public sealed class MseLoss : Loss
{
    public MseLoss(Reduction reduction = Reduction.Mean) : base(reduction) { }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.MseLoss(input, target, Reduction);
}
