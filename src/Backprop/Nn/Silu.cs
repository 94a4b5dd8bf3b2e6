namespace Backprop.Nn;

/// <summary>x·σ(x) element-wise (also called swish).</summary>
public sealed class Silu : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Silu();
}
