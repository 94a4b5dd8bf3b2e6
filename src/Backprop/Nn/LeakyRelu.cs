namespace Backprop.Nn;

/// <summary>x for x ≥ 0, slope·x below.</summary>
public sealed class LeakyRelu : Module<Tensor, Tensor>
{
    public LeakyRelu(double negativeSlope = 0.01) => NegativeSlope = negativeSlope;

    public double NegativeSlope { get; }

    protected override Tensor ForwardCore(Tensor input) => input.LeakyRelu(NegativeSlope);

    protected override string ExtraDescription => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"negativeSlope: {NegativeSlope}");
}
