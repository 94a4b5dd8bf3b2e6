namespace Backprop.Optim;

/// <summary>Multiplies the learning rate by <see cref="Gamma"/> every <see cref="StepSize"/> steps: γ₀·gamma^⌊t / stepSize⌋.</summary>
public sealed class StepLr : LrScheduler
{
    public StepLr(Optimizer optimizer, int stepSize, double gamma = 0.1) : base(optimizer)
    {
        if (stepSize <= 0) throw new ArgumentOutOfRangeException(nameof(stepSize), $"StepLr: stepSize must be positive; got {stepSize}.");
        StepSize = stepSize;
        Gamma = gamma;
        Start();
    }

    public int StepSize { get; }

    public double Gamma { get; }

    protected override double ComputeLearningRate(int group, int step) => BaseLearningRates[group] * Math.Pow(Gamma, step / StepSize);
}
