using System.Globalization;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Cli.Training;

/// <summary>
/// A trained classifier as <c>backprop train</c> saves it and <c>backprop predict</c> loads it: the network, its
/// <see cref="ModelArchitecture"/>, the dataset it learned and how its inputs are prepared.
/// </summary>
/// <remarks>
/// The file is a safetensors file of the network's state dict (PyTorch names: <c>0.weight</c>, <c>0.bias</c>, …),
/// whose metadata holds <c>backprop.format</c> = <see cref="Format"/>, the architecture's entries, the dataset, the
/// input transform, for tabular data the feature names, plus whatever the trainer adds (epochs, optimizer, accuracy).
/// </remarks>
public sealed class Classifier
{
    /// <summary>The value of <c>backprop.format</c> that marks a Backprop classifier file.</summary>
    public const string Format = "classifier/1";

    private const string FormatKey = "backprop.format";
    private const string DatasetKey = "backprop.dataset";
    private const string TransformKey = "backprop.input_transform";
    private const string FeaturesKey = "backprop.feature_names";

    public Classifier(string dataset, ModelArchitecture architecture, Sequential network, InputTransform transform, IReadOnlyList<string>? featureNames)
    {
        Dataset = dataset;
        Architecture = architecture;
        Network = network;
        Transform = transform;
        FeatureNames = featureNames;
    }

    public string Dataset { get; }

    public ModelArchitecture Architecture { get; }

    public Sequential Network { get; }

    public InputTransform Transform { get; }

    /// <summary>For tabular data, the name of each input feature in order; null for images.</summary>
    public IReadOnlyList<string>? FeatureNames { get; }

    /// <summary>The class of each row of <paramref name="inputs"/> ([N, …sample shape]), in evaluation mode without a graph.</summary>
    public long[] Predict(Tensor inputs)
    {
        // In chunks (see ModelArchitecture.InferenceRows), so a large file needs little memory at once.
        int n = inputs.Size(0), chunk = Architecture.InferenceRows;
        var classes = new long[n];
        bool training = Network.IsTraining;
        Network.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            for (int start = 0; start < n; start += chunk)
            {
                int rows = Math.Min(chunk, n - start);
                Decide(Network.Forward(inputs.Narrow(0, start, rows)), Architecture.Output).CopyTo(classes, start);
            }
        }
        finally
        {
            Network.Train(training);
        }
        return classes;
    }

    /// <summary>The class each row of a model's outputs stands for: the largest logit, or a probability of at least ½.</summary>
    public static long[] Decide(Tensor outputs, ModelOutput output)
    {
        using var noGrad = Autograd.NoGrad();
        if (output == ModelOutput.Logits) return outputs.ArgMax(1).ToArray<long>();
        var probabilities = outputs.ToArray<float>();
        return Array.ConvertAll(probabilities, p => p >= 0.5f ? 1L : 0L);
    }

    /// <summary>Writes the weights and the description atomically; <paramref name="extra"/> adds informational metadata.</summary>
    public void Save(string path, IReadOnlyDictionary<string, string>? extra = null)
    {
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (extra is not null)
            foreach (var (key, value) in extra) metadata[key] = value;
        metadata[FormatKey] = Format;
        metadata[DatasetKey] = Dataset;
        metadata[TransformKey] = Transform == InputTransform.MnistStandardize ? "mnist" : "none";
        if (FeatureNames is not null) metadata[FeaturesKey] = string.Join(",", FeatureNames);
        Architecture.WriteMetadata(metadata);
        SafeTensors.Save(path, Network.StateDict(), metadata);
    }

    /// <summary>Reads a file written by <see cref="Save"/>; anything wrong with it throws naming the file.</summary>
    public static Classifier Load(string path)
    {
        var content = SafeTensors.Load(path);
        var metadata = content.Metadata;
        if (!metadata.TryGetValue(FormatKey, out var format) && metadata.ContainsKey("backprop.checkpoint"))
            throw new MalformedFileException(path, $"a training checkpoint, not a model; use the {Path.GetFileName(RunOutputs.ModelFile)} written beside it");
        if (format is null)
            throw new MalformedFileException(path, "not a Backprop model: its metadata has no 'backprop.format' entry (write one with `backprop train … --out DIR`)");
        if (format != Format)
            throw new MalformedFileException(path, $"'backprop.format' is '{format}'; this version reads '{Format}'");
        var architecture = ModelArchitecture.ReadMetadata(metadata, path);
        var transform = metadata.GetValueOrDefault(TransformKey, "none") switch
        {
            "none" => InputTransform.None,
            "mnist" => InputTransform.MnistStandardize,
            var other => throw new MalformedFileException(path, $"metadata '{TransformKey}' = '{other}' is neither 'none' nor 'mnist'"),
        };
        IReadOnlyList<string>? features = metadata.TryGetValue(FeaturesKey, out var names) ? names.Split(',') : null;
        if (features is not null && features.Count != architecture.InputSize)
            throw new MalformedFileException(path,
                $"metadata '{FeaturesKey}' names {features.Count} features; the model takes {architecture.InputSize.ToString(CultureInfo.InvariantCulture)}");
        var network = architecture.Build(new Generator(0), WeightInit.Default);
        try
        {
            network.LoadStateDict(content.Tensors);
        }
        catch (StateDictMismatchException e)
        {
            throw new MalformedFileException(path, $"the weights do not fit the architecture in its metadata: {e.Message}", e);
        }
        return new Classifier(metadata.GetValueOrDefault(DatasetKey, "?"), architecture, network, transform, features);
    }
}
