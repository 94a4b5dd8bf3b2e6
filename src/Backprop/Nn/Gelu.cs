namespace Backprop.Nn;

/// <summary>x·Φ(x) element-wise (the exact form, with the error function).</summary>
public sealed class Gelu : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Gelu();
}
