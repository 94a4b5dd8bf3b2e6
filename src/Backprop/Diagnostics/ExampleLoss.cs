namespace Backprop.Diagnostics;

/// <summary>The loss of a custom worked example.</summary>
public enum ExampleLoss
{
    /// <summary>Mean squared error, mean((ŷ − y)²).</summary>
    Mse,

    /// <summary>Half the summed squared error, ½Σ(ŷ − y)², as many tutorials write it (its gradient is ŷ − y).</summary>
    HalfSquaredError,

    /// <summary>Binary cross-entropy of probabilities, −mean[y·log ŷ + (1 − y)·log(1 − ŷ)]; needs a sigmoid output.</summary>
    BinaryCrossEntropy,
}
