using Backprop.IO;

namespace Backprop.Data;

/// <summary>
/// Standardises features to zero mean and unit variance per feature, with statistics computed once on the training
/// set (<see cref="Fit"/>) and applied unchanged to validation and test data, so no test statistic leaks into training.
/// </summary>
public sealed class Standardizer : ICheckpointable
{
    /// <param name="mean">Per-feature mean: the shape of one sample.</param>
    /// <param name="std">Per-feature standard deviation, of the same shape; every entry positive.</param>
    public Standardizer(Tensor mean, Tensor std)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Shape != std.Shape)
            throw new ShapeMismatchException("Standardizer", $"mean {mean.Shape} and std {std.Shape} must have the same shape");
        Mean = mean;
        Std = std;
    }

    public Tensor Mean { get; private set; }

    public Tensor Std { get; private set; }

    /// <summary>
    /// The per-feature mean and (population) standard deviation of <paramref name="features"/> along dimension 0.
    /// A constant feature gets a standard deviation of 1, so it becomes 0 rather than NaN.
    /// </summary>
    public static Standardizer Fit(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Rank == 0 || features.Size(0) == 0)
            throw new ShapeMismatchException("Standardizer.Fit", $"needs at least one sample along dimension 0; got shape {features.Shape}");
        if (!features.DType.IsFloatingPoint())
            throw new ArgumentException($"Standardizer.Fit: features must be floating-point; got {features.DType.DisplayName()}.", nameof(features));
        using var noGrad = Autograd.NoGrad();
        // Float64 accumulation: a float32 sum over tens of thousands of rows loses digits the std then magnifies.
        var x = features.Double();
        var mean = x.Mean(0);
        var std = (x - mean).Square().Mean(0).Sqrt();
        std = Tensor.Where(std.Gt(1e-12), std, 1.0);
        return new Standardizer(mean.To(features.DType), std.To(features.DType));
    }

    /// <summary>(features − mean) / std, for samples stacked along dimension 0.</summary>
    public Tensor Transform(Tensor features)
    {
        CheckFeatures("Transform", features);
        return (features - Mean) / Std;
    }

    /// <summary>features · std + mean: undoes <see cref="Transform"/> (e.g. to report predictions in the original units).</summary>
    public Tensor InverseTransform(Tensor features)
    {
        CheckFeatures("InverseTransform", features);
        return features * Std + Mean;
    }

    private void CheckFeatures(string op, Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.Rank != Mean.Rank + 1 || !features.Shape.AsSpan()[1..].SequenceEqual(Mean.Shape.AsSpan()))
            throw new ShapeMismatchException($"Standardizer.{op}", $"expected samples of shape {Mean.Shape} stacked along dimension 0; got {features.Shape}");
    }

    public void SaveState(Checkpoint checkpoint, string prefix)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        checkpoint.Tensors[prefix + "mean"] = Mean.Detach();
        checkpoint.Tensors[prefix + "std"] = Std.Detach();
    }

    public void LoadState(Checkpoint checkpoint, string prefix)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var mean = checkpoint.GetTensor(prefix + "mean");
        var std = checkpoint.GetTensor(prefix + "std");
        if (mean.Shape != Mean.Shape || std.Shape != Std.Shape)
            throw new ShapeMismatchException("Standardizer.LoadState",
                $"checkpoint holds mean {mean.Shape} and std {std.Shape}; this standardizer has {Mean.Shape}");
        Mean = mean.To(Mean.DType);
        Std = std.To(Std.DType);
    }
}
