namespace Backprop.Optim;

/// <summary>Hyperparameters of <see cref="Sgd"/>, with PyTorch's defaults.</summary>
public sealed record SgdOptions : OptimizerOptions, IMomentumOptions
{
    public SgdOptions() => LearningRate = 1e-3;

    /// <summary>μ: the share of the previous update kept in the momentum buffer (0: plain SGD).</summary>
    public double Momentum { get; set; }

    /// <summary>τ: the share of each gradient left out of the momentum buffer.</summary>
    public double Dampening { get; set; }

    /// <summary>Step along g + μ·b (Nesterov momentum) instead of b.</summary>
    public bool Nesterov { get; set; }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        Require(optimizer, Momentum >= 0, $"momentum must be non-negative; got {Momentum}");
        Require(optimizer, !Nesterov || (Momentum > 0 && Dampening == 0), "Nesterov momentum needs a positive momentum and zero dampening");
    }
}
