namespace Backprop.Nn;

/// <summary>Absolute error |x − y|, see <see cref="Functional.L1Loss"/>.</summary>
public sealed class L1Loss : Loss
{
    public L1Loss(Reduction reduction = Reduction.Mean) : base(reduction) { }

    protected override Tensor ForwardCore(Tensor input, Tensor target) => Functional.L1Loss(input, target, Reduction);
}
