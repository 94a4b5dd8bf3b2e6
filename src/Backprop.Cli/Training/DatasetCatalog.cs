using Backprop.Data;

namespace Backprop.Cli.Training;

/// <summary>The datasets <c>backprop train</c> knows, their defaults, and how their samples are made or read.</summary>
public static class DatasetCatalog
{
    private static readonly string[] Xy = ["x1", "x2"];

    // Sizes and noise levels keep each 2-D set learnable to high accuracy in a few seconds while not trivially separable.
    private const int TrainPoints = 1000, TestPoints = 500;

    public static IReadOnlyList<DatasetInfo> All { get; } =
    [
        new("xor", "the 4-row XOR truth table; a 2-4-4-1 ReLU net with a sigmoid output", DatasetKind.Table, [2], 2, ModelOutput.Sigmoid,
            InputTransform.None, Xy, new TrainingDefaults("mlp", [4, 4], WeightInit.He, OptimizerKind.Sgd, 0.5, BatchSize: 4, Epochs: 500, Shuffle: false)),
        new("moons", "two interleaving half circles, noise 0.15", DatasetKind.Table, [2], 2, ModelOutput.Logits,
            InputTransform.None, Xy, new TrainingDefaults("mlp", [16, 16], WeightInit.Default, OptimizerKind.Adam, 0.01, BatchSize: 32, Epochs: 20, Shuffle: true)),
        new("spiral", "three spiral arms, noise 0.05", DatasetKind.Table, [2], 3, ModelOutput.Logits,
            InputTransform.None, Xy, new TrainingDefaults("mlp", [64, 64], WeightInit.Default, OptimizerKind.Adam, 0.01, BatchSize: 32, Epochs: 40, Shuffle: true)),
        new("circles", "two concentric circles (radii 1 and 0.5), noise 0.08", DatasetKind.Table, [2], 2, ModelOutput.Logits,
            InputTransform.None, Xy, new TrainingDefaults("mlp", [16, 16], WeightInit.Default, OptimizerKind.Adam, 0.01, BatchSize: 32, Epochs: 20, Shuffle: true)),
        new("mnist", "handwritten digits; the bundled 10k subset, or full MNIST IDX files with --data DIR", DatasetKind.Images, [1, 28, 28], 10,
            ModelOutput.Logits, InputTransform.MnistStandardize, null,
            new TrainingDefaults("mlp", [256, 128], WeightInit.Default, OptimizerKind.Adam, 0.001, BatchSize: 64, Epochs: 10, Shuffle: true)),
    ];

    public static IReadOnlyList<string> Names { get; } = All.Select(d => d.Name).ToArray();

    public static DatasetInfo Get(string name) => All.FirstOrDefault(d => d.Name == name)
        ?? throw new UsageException($"backprop train: unknown dataset '{name}'; expected one of {string.Join("|", Names)}.");

    /// <summary>
    /// The training and test samples for <paramref name="architecture"/>: the 2-D sets generated from the seeds, MNIST
    /// read from <paramref name="dataDirectory"/> (the bundled subset when null) and shaped as the model takes it.
    /// </summary>
    /// <param name="limit">Use at most this many training and this many test samples (the first ones).</param>
    public static TrainingData Load(DatasetInfo info, ModelArchitecture architecture, RunSeeds seeds, int? limit, string? dataDirectory)
    {
        (Dataset train, Dataset test) = info.Name switch
        {
            "xor" => (SyntheticData.Xor(), SyntheticData.Xor()),
            "moons" => (SyntheticData.TwoMoons(TrainPoints, 0.15, seeds.TrainData), SyntheticData.TwoMoons(TestPoints, 0.15, seeds.TestData)),
            "spiral" => (SyntheticData.Spirals(TrainPoints, 3, 0.05, seeds.TrainData), SyntheticData.Spirals(TestPoints, 3, 0.05, seeds.TestData)),
            "circles" => (SyntheticData.Circles(TrainPoints, 0.08, 0.5, seeds.TrainData), SyntheticData.Circles(TestPoints, 0.08, 0.5, seeds.TestData)),
            "mnist" => LoadMnist(architecture, dataDirectory),
            _ => throw new UsageException($"backprop train: no data for dataset '{info.Name}'."),
        };
        if (limit is int n) (train, test) = (First(train, n), First(test, n));
        return new TrainingData(info, train, test);
    }

    private static (Dataset, Dataset) LoadMnist(ModelArchitecture architecture, string? dataDirectory)
    {
        var directory = dataDirectory ?? Mnist.BundledDirectory;
        if (!Directory.Exists(directory))
            throw new UsageException($"backprop train: the MNIST directory '{directory}' does not exist.");
        bool flatten = architecture.InputShape.Count == 1;
        var train = Mnist.Load(directory, MnistSplit.Train, flatten, normalize: true);
        var test = Mnist.Load(directory, MnistSplit.Test, flatten, normalize: true);
        foreach (var split in new[] { train, test })
        {
            var sample = split.Tensors[0].Shape.AsSpan()[1..].ToArray();
            if (!sample.SequenceEqual(architecture.InputShape))
                throw new UsageException(
                    $"backprop train: the images in '{directory}' have shape [{string.Join(", ", sample)}]; the {architecture.Name} model takes [{string.Join(", ", architecture.InputShape)}].");
        }
        return (train, test);
    }

    private static Dataset First(Dataset dataset, int count) =>
        count >= dataset.Count ? dataset : new Subset(dataset, Enumerable.Range(0, count));
}
