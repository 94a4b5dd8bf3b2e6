namespace Backprop.Nn;

/// <summary>x for x > 0, α(eˣ − 1) below.</summary>
public sealed class Elu : Module<Tensor, Tensor>
{
    public Elu(double alpha = 1.0) => Alpha = alpha;

    public double Alpha { get; }

    protected override Tensor ForwardCore(Tensor input) => input.Elu(Alpha);

    protected override string ExtraDescription => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"alpha: {Alpha}");
}
