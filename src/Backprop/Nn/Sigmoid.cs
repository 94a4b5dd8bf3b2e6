namespace Backprop.Nn;

/// <summary>1 / (1 + e^−x) element-wise.</summary>
public sealed class Sigmoid : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Sigmoid();
}
