namespace Backprop.Optim;

/// <summary>How <see cref="ReduceLrOnPlateau"/> measures a significant improvement over the best value.</summary>
public enum ThresholdMode
{
    /// <summary>By a fraction of the best value: better than best·(1 ∓ threshold).</summary>
    Relative,
    /// <summary>By an absolute amount: better than best ∓ threshold.</summary>
    Absolute,
}
