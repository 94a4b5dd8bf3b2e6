namespace Backprop.Data;

/// <summary>A tabular dataset read by <see cref="CsvFile.Read"/>: numeric features and one target per row.</summary>
public sealed class CsvTable
{
    internal CsvTable(Tensor features, Tensor targets, string[] featureNames, string targetName, string[]? classNames)
    {
        Features = features;
        Targets = targets;
        FeatureNames = featureNames;
        TargetName = targetName;
        ClassNames = classNames;
    }

    /// <summary>Float32 [rows, features], columns in <see cref="FeatureNames"/> order.</summary>
    public Tensor Features { get; }

    /// <summary>Int64 [rows] class indices, or Float32 [rows] regression targets.</summary>
    public Tensor Targets { get; }

    public IReadOnlyList<string> FeatureNames { get; }

    public string TargetName { get; }

    /// <summary>When class labels were names: the name of each class index (sorted, or as given to the reader). Otherwise null.</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Number of rows.</summary>
    public int Count => Features.Size(0);

    /// <summary>A dataset of (features, target) samples.</summary>
    public TensorDataset ToDataset() => new(Features, Targets);
}
