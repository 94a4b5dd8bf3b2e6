namespace Backprop.Nn;

/// <summary>log(1 + e^(βx))/β element-wise: a smooth ReLU.</summary>
public sealed class Softplus : Module<Tensor, Tensor>
{
    public Softplus(double beta = 1.0) => Beta = beta;

    public double Beta { get; }

    protected override Tensor ForwardCore(Tensor input) => input.Softplus(Beta);

    protected override string ExtraDescription => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"beta: {Beta}");
}
