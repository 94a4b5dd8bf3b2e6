namespace Backprop.Cli.Training;

/// <summary>A dataset <c>backprop train</c> knows: what its samples are, how many classes, how its models end, and its defaults.</summary>
/// <param name="SampleShape">The shape of one sample as stored (<c>[2]</c>, <c>[1, 28, 28]</c>).</param>
/// <param name="FeatureNames">For tabular data, the name of each feature (the columns <c>predict</c> reads from a CSV).</param>
public sealed record DatasetInfo(
    string Name, string Summary, DatasetKind Kind, IReadOnlyList<int> SampleShape, int Classes, ModelOutput Output,
    InputTransform Transform, IReadOnlyList<string>? FeatureNames, TrainingDefaults Defaults)
{
    /// <summary>Number of values in one sample.</summary>
    public int SampleSize => SampleShape.Aggregate(1, (a, b) => a * b);
}
