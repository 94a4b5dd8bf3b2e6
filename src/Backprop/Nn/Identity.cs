namespace Backprop.Nn;

/// <summary>Returns its input: a placeholder where a layer is optional.</summary>
public sealed class Identity : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input;
}
