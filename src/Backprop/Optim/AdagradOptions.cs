namespace Backprop.Optim;

/// <summary>Hyperparameters of <see cref="Adagrad"/>, with PyTorch's defaults.</summary>
public sealed record AdagradOptions : OptimizerOptions
{
    public AdagradOptions() => LearningRate = 1e-2;

    /// <summary>The step size at step t is γ / (1 + (t − 1)·decay).</summary>
    public double LearningRateDecay { get; set; }

    /// <summary>The starting value of the sum of squared gradients.</summary>
    public double InitialAccumulatorValue { get; set; }

    /// <summary>ε: added to the denominator (outside the square root).</summary>
    public double Eps { get; set; } = 1e-10;

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        Require(optimizer, LearningRateDecay >= 0, $"learning rate decay must be non-negative; got {LearningRateDecay}");
        Require(optimizer, InitialAccumulatorValue >= 0, $"initial accumulator value must be non-negative; got {InitialAccumulatorValue}");
        Require(optimizer, Eps >= 0, $"eps must be non-negative; got {Eps}");
    }
}
