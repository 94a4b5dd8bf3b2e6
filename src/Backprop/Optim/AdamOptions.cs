namespace Backprop.Optim;

/// <summary>Hyperparameters of <see cref="Adam"/> and <see cref="AdamW"/>, with PyTorch's defaults (AdamW's weight decay is 0.01).</summary>
public sealed record AdamOptions : OptimizerOptions, IMomentumOptions
{
    public AdamOptions() => LearningRate = 1e-3;

    /// <summary>β₁: decay of the running mean of gradients.</summary>
    public double Beta1 { get; set; } = 0.9;

    /// <summary>β₂: decay of the running mean of squared gradients.</summary>
    public double Beta2 { get; set; } = 0.999;

    /// <summary>ε: added to the denominator √v̂ (outside the square root), for stability.</summary>
    public double Eps { get; set; } = 1e-8;

    /// <summary>Divide by the largest v̂ seen so far (AMSGrad) rather than the current one.</summary>
    public bool Amsgrad { get; set; }

    double IMomentumOptions.Momentum
    {
        get => Beta1;
        set => Beta1 = value;
    }

    internal override void Validate(string optimizer)
    {
        base.Validate(optimizer);
        Require(optimizer, Beta1 >= 0 && Beta1 < 1, $"beta1 must be in [0, 1); got {Beta1}");
        Require(optimizer, Beta2 >= 0 && Beta2 < 1, $"beta2 must be in [0, 1); got {Beta2}");
        Require(optimizer, Eps >= 0, $"eps must be non-negative; got {Eps}");
    }
}
