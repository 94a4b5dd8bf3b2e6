namespace Backprop.Nn;

/// <summary>tanh(x) element-wise.</summary>
public sealed class Tanh : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Tanh();
}
