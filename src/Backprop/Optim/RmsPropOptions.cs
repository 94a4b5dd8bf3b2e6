namespace Backprop.Optim;

/// <summary>Hyperparameters of <see cref="RmsProp"/>, with PyTorch's defaults.</summary>
public sealed record RmsPropOptions : OptimizerOptions, IMomentumOptions
{
    public RmsPropOptions() => LearningRate = 1e-2;

    /// <summary>α: decay of the running mean of squared gradients.</summary>
    public double Alpha { get; set; } = 0.99;

    /// <summary>ε: added to the denominator (outside the square root).</summary>
    public double Eps { get; set; } = 1e-8;

    /// <summary>μ: momentum of the normalised update (0: none).</summary>
    public double Momentum { get; set; }

    /// <summary>Normalise by the variance estimate v − ḡ² instead of v.</summary>
    public bool Centered { get; set; }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        Require(optimizer, Alpha >= 0, $"alpha must be non-negative; got {Alpha}");
        Require(optimizer, Eps >= 0, $"eps must be non-negative; got {Eps}");
        Require(optimizer, Momentum >= 0, $"momentum must be non-negative; got {Momentum}");
    }
}
