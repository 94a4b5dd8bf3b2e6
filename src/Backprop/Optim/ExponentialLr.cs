namespace Backprop.Optim;

/// <summary>Multiplies the learning rate by <see cref="Gamma"/> every step: γ₀·gammaᵗ.</summary>
public sealed class ExponentialLr : LrScheduler
{
    public ExponentialLr(Optimizer optimizer, double gamma) : base(optimizer)
    {
        Gamma = gamma;
        Start();
    }

    public double Gamma { get; }

    protected override double ComputeLearningRate(int group, int step) => BaseLearningRates[group] * Math.Pow(Gamma, step);
}
