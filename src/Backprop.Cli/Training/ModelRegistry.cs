namespace Backprop.Cli.Training;

/// <summary>
/// The models <c>backprop train --model NAME</c> builds, per kind of dataset. A new model is one entry here: a name,
/// a summary and a function from the dataset to a <see cref="ModelArchitecture"/> (plus, for a new kind of layer, a
/// <see cref="LayerKind"/> and its cases in <see cref="LayerSpec"/>, so saved models of it can be rebuilt).
/// </summary>
public static class ModelRegistry
{
    private static readonly ModelEntry TableMlp = new("mlp", "Linear layers of the --hidden widths with ReLU between them",
        (dataset, hidden) => ModelArchitecture.Mlp("mlp", dataset.SampleSize, hidden, dataset.Classes, dataset.Output));

    private static readonly ModelEntry ImageMlp = new("mlp", "the image flattened, then Linear layers of the --hidden widths (default 256, 128) with ReLU",
        (dataset, hidden) => ModelArchitecture.Mlp("mlp", dataset.SampleSize, hidden, dataset.Classes, dataset.Output));

    /// <summary>
    /// Conv 1→16 3×3 pad 1, ReLU, MaxPool 2, Conv 16→32 3×3 pad 1, ReLU, MaxPool 2, Flatten, Linear 1568→128, ReLU,
    /// Linear 128→10 on [1, 28, 28] inputs (the Linear's width follows the image size). Its layers are fixed, so it
    /// takes no <c>--hidden</c>.
    /// </summary>
    private static readonly ModelEntry Cnn = new("cnn", "two 3×3 convolutions (16, 32 channels) with max pooling, then Linear 1568→128→10",
        (dataset, _) => SmallCnn("cnn", dataset), TakesHidden: false);

    private static ModelArchitecture SmallCnn(string name, DatasetInfo dataset)
    {
        if (dataset.SampleShape.Count != 3)
            throw new UsageException($"backprop train: the {name} model takes images [C, H, W]; {dataset.Name} samples are [{string.Join(", ", dataset.SampleShape)}].");
        List<LayerSpec> layers =
        [
            LayerSpec.Conv2d(dataset.SampleShape[0], 16, 3, padding: 1), LayerSpec.Relu, LayerSpec.MaxPool2d(2),
            LayerSpec.Conv2d(16, 32, 3, padding: 1), LayerSpec.Relu, LayerSpec.MaxPool2d(2),
            LayerSpec.Flatten,
        ];
        int features = ModelArchitecture.ShapeAfter(layers, dataset.SampleShape)[0];
        layers.AddRange([LayerSpec.Linear(features, 128), LayerSpec.Relu]);
        layers.AddRange(dataset.Output == ModelOutput.Sigmoid ? [LayerSpec.Linear(128, 1), LayerSpec.Sigmoid] : [LayerSpec.Linear(128, dataset.Classes)]);
        return ModelArchitecture.Sequence(name, layers, dataset.SampleShape, dataset.Classes, dataset.Output);
    }

    /// <summary>The models for a kind of dataset, the default first.</summary>
    public static IReadOnlyList<ModelEntry> For(DatasetKind kind) => kind == DatasetKind.Images ? [ImageMlp, Cnn] : [TableMlp];

    /// <summary>The architecture of model <paramref name="name"/> for <paramref name="dataset"/>; an unknown or unavailable model is a usage error.</summary>
    public static ModelArchitecture Resolve(DatasetInfo dataset, string name, IReadOnlyList<int> hidden)
    {
        var entries = For(dataset.Kind);
        var entry = entries.FirstOrDefault(e => e.Name == name)
            ?? throw new UsageException(
                $"backprop train: unknown model '{name}' for {dataset.Name}; expected one of {string.Join("|", entries.Select(e => e.Name))}.");
        if (entry.Create is null)
            throw new UsageException($"backprop train: the {entry.Name} model is not available yet: {entry.Unavailable}.");
        return entry.Create(dataset, hidden);
    }
}
