namespace Backprop.Nn;

/// <summary>max(x, 0) element-wise.</summary>
public sealed class Relu : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Relu();
}
