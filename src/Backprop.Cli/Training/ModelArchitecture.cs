using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Cli.Training;

/// <summary>
/// A classifier as data: the layers of a <see cref="Sequential"/>, the shape of one input sample, the number of
/// classes and the kind of output. It is written into a saved model's metadata (<see cref="WriteMetadata"/>), so
/// the model can be rebuilt from the file alone, whatever registry entry first produced it.
/// </summary>
/// <param name="Name">The registry name it was built under (<c>mlp</c>, <c>cnn</c>).</param>
/// <param name="InputShape">The shape of one sample, without the batch dimension (<c>[784]</c>, <c>[1, 28, 28]</c>).</param>
public sealed record ModelArchitecture(string Name, IReadOnlyList<LayerSpec> Layers, IReadOnlyList<int> InputShape, int Classes, ModelOutput Output)
{
    private const string NameKey = "backprop.model";
    private const string LayersKey = "backprop.layers";
    private const string InputShapeKey = "backprop.input_shape";
    private const string ClassesKey = "backprop.classes";
    private const string OutputKey = "backprop.output";

    /// <summary>A multilayer perceptron: Linear layers of the given hidden widths with <paramref name="activation"/> between them.</summary>
    public static ModelArchitecture Mlp(string name, int inputs, IReadOnlyList<int> hidden, int classes, ModelOutput output,
        LayerSpec? activation = null)
    {
        activation ??= LayerSpec.Relu;
        var layers = new List<LayerSpec>();
        int width = inputs;
        foreach (var h in hidden)
        {
            layers.Add(LayerSpec.Linear(width, h));
            layers.Add(activation);
            width = h;
        }
        layers.Add(LayerSpec.Linear(width, output == ModelOutput.Sigmoid ? 1 : classes));
        if (output == ModelOutput.Sigmoid) layers.Add(LayerSpec.Sigmoid);
        var architecture = new ModelArchitecture(name, layers, [inputs], classes, output);
        architecture.Validate("ModelArchitecture");
        return architecture;
    }

    /// <summary>Number of elements of one input sample.</summary>
    public int InputSize => InputShape.Aggregate(1, (a, b) => a * b);

    /// <summary>Builds the model, drawing every initial weight from <paramref name="generator"/> (layer by layer, in order).</summary>
    public Sequential Build(Generator generator, WeightInit init)
    {
        var modules = Layers.Select(l => l.Build(generator)).ToArray();
        if (init == WeightInit.He)
        {
            for (int i = 0; i + 1 < modules.Length; i++)
                if (Layers[i + 1].Kind == LayerKind.Relu && modules[i] switch { Linear l => l.Weight, Conv2d c => c.Weight, _ => null } is { } weight)
                    Init.KaimingUniform(weight, nonlinearity: Nonlinearity.Relu, generator: generator);
        }
        return new Sequential(modules);
    }

    /// <summary>The layers in one line: <c>Linear(2, 4) → Relu → Linear(4, 1) → Sigmoid</c>.</summary>
    public string Describe() => string.Join(" → ", Layers);

    /// <summary>The most values one sample has at any point of the forward pass (the input or a layer's output).</summary>
    public int LargestActivation
    {
        get
        {
            var shape = InputShape.ToArray();
            int largest = InputSize;
            foreach (var layer in Layers)
            {
                shape = layer.OutputShape(shape, "ModelArchitecture");
                largest = Math.Max(largest, shape.Aggregate(1, (a, b) => a * b));
            }
            return largest;
        }
    }

    /// <summary>
    /// Rows per forward pass when evaluating or predicting without a graph: as many as keep the largest activation
    /// near 2M values (8 MB of float32), between 64 and 4096. A CNN's feature maps are far larger per sample than an
    /// MLP's, and a 4096-image batch of them (200 MB a layer) costs more in page faults than it saves in calls.
    /// </summary>
    public int InferenceRows => Math.Clamp((1 << 21) / Math.Max(1, LargestActivation), 64, 4096);

    /// <summary>Number of learnable values.</summary>
    public long ParameterCount => Layers.Sum(l => l.ParameterCount);

    /// <summary>Adds this architecture's description to a file's metadata.</summary>
    public void WriteMetadata(IDictionary<string, string> metadata)
    {
        metadata[NameKey] = Name;
        metadata[LayersKey] = LayersJson();
        metadata[InputShapeKey] = string.Join(",", InputShape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
        metadata[ClassesKey] = Classes.ToString(CultureInfo.InvariantCulture);
        metadata[OutputKey] = Output == ModelOutput.Sigmoid ? "sigmoid" : "logits";
    }

    /// <summary>Reads what <see cref="WriteMetadata"/> wrote; a missing or malformed entry throws naming <paramref name="file"/>.</summary>
    public static ModelArchitecture ReadMetadata(IReadOnlyDictionary<string, string> metadata, string file)
    {
        string Get(string key) => metadata.TryGetValue(key, out var value)
            ? value
            : throw new MalformedFileException(file, $"its metadata has no '{key}' entry, so the model cannot be rebuilt");
        var name = Get(NameKey);
        var layers = ParseLayers(Get(LayersKey), file);
        var shapeText = Get(InputShapeKey);
        var shape = new List<int>();
        foreach (var part in shapeText.Split(','))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out int d) || d <= 0)
                throw new MalformedFileException(file, $"metadata '{InputShapeKey}' = '{shapeText}' is not a list of positive sizes");
            shape.Add(d);
        }
        var classesText = Get(ClassesKey);
        if (!int.TryParse(classesText, NumberStyles.None, CultureInfo.InvariantCulture, out int classes) || classes < 2)
            throw new MalformedFileException(file, $"metadata '{ClassesKey}' = '{classesText}' is not a class count of at least 2");
        var output = Get(OutputKey) switch
        {
            "logits" => ModelOutput.Logits,
            "sigmoid" => ModelOutput.Sigmoid,
            var other => throw new MalformedFileException(file, $"metadata '{OutputKey}' = '{other}' is neither 'logits' nor 'sigmoid'"),
        };
        var architecture = new ModelArchitecture(name, layers, shape, classes, output);
        try
        {
            architecture.Validate(file);
        }
        catch (ArgumentException e)
        {
            throw new MalformedFileException(file, e.Message, e);
        }
        return architecture;
    }

    /// <summary>
    /// A model of the given layers, checked: each layer takes the shape the one before gives, and the last gives one
    /// value per class (or one probability).
    /// </summary>
    public static ModelArchitecture Sequence(string name, IReadOnlyList<LayerSpec> layers, IReadOnlyList<int> inputShape, int classes, ModelOutput output)
    {
        var architecture = new ModelArchitecture(name, layers, inputShape, classes, output);
        architecture.Validate("ModelArchitecture");
        return architecture;
    }

    /// <summary>The shape of one sample after <paramref name="layers"/>, starting from <paramref name="inputShape"/>.</summary>
    public static int[] ShapeAfter(IEnumerable<LayerSpec> layers, IReadOnlyList<int> inputShape, string owner = "ModelArchitecture") =>
        layers.Aggregate(inputShape.ToArray(), (shape, layer) => layer.OutputShape(shape, owner));

    /// <summary>Checks the layers chain: each takes the shape the one before gives, and the last gives one value per class (or one probability).</summary>
    private void Validate(string owner)
    {
        if (Layers.Count == 0) throw new ArgumentException($"{owner}: the model has no layers.");
        var shape = ShapeAfter(Layers, InputShape, owner);
        int expected = Output == ModelOutput.Sigmoid ? 1 : Classes;
        if (shape.Length != 1)
            throw new ArgumentException($"{owner}: the last layer gives [{string.Join(", ", shape)}] per sample; a classifier ends with a Linear layer.");
        if (shape[0] != expected)
            throw new ArgumentException($"{owner}: the last layer gives {shape[0]} values; {(Output == ModelOutput.Sigmoid ? "a sigmoid output needs 1" : $"{Classes} classes need {Classes}")}.");
        if (Output == ModelOutput.Sigmoid && (Classes != 2 || Layers[^1].Kind != LayerKind.Sigmoid))
            throw new ArgumentException($"{owner}: a sigmoid output needs 2 classes and a final Sigmoid layer.");
    }

    private string LayersJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartArray();
            foreach (var layer in Layers)
            {
                json.WriteStartObject();
                json.WriteString("type", layer.Kind.ToString().ToLowerInvariant());
                if (layer.Kind is LayerKind.Linear or LayerKind.Conv2d)
                {
                    json.WriteNumber("in", layer.InFeatures);
                    json.WriteNumber("out", layer.OutFeatures);
                }
                if (layer.Kind is LayerKind.Conv2d or LayerKind.MaxPool2d)
                {
                    json.WriteNumber("kernel", layer.KernelSize);
                    json.WriteNumber("stride", layer.Stride);
                }
                if (layer.Kind == LayerKind.Conv2d) json.WriteNumber("padding", layer.Padding);
                json.WriteEndObject();
            }
            json.WriteEndArray();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static List<LayerSpec> ParseLayers(string text, string file)
    {
        MalformedFileException Bad(string problem) => new(file, $"metadata '{LayersKey}': {problem}");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new MalformedFileException(file, $"metadata '{LayersKey}' is not valid JSON: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array) throw Bad("expected a JSON array of layers");
            var layers = new List<LayerSpec>();
            foreach (var element in document.RootElement.EnumerateArray())
            {
                if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                    throw Bad($"layer {layers.Count} has no \"type\"");
                var typeName = type.GetString()!;
                // By name only: Enum.TryParse would also take numbers ("3") and lists ("linear, relu").
                var known = Enum.GetValues<LayerKind>().Where(k => string.Equals(k.ToString(), typeName, StringComparison.OrdinalIgnoreCase)).ToList();
                if (known.Count != 1)
                    throw Bad($"layer {layers.Count} has the unknown type '{typeName}' (known: {string.Join(", ", Enum.GetNames<LayerKind>().Select(n => n.ToLowerInvariant()))})");
                var kind = known[0];
                int Size(string name, int min = 1) => element.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= min
                    ? n
                    : throw Bad($"layer {layers.Count} ({typeName.ToLowerInvariant()}) needs a{(min > 0 ? " positive" : " non-negative")} integer \"{name}\"");
                layers.Add(kind switch
                {
                    LayerKind.Linear => LayerSpec.Linear(Size("in"), Size("out")),
                    LayerKind.Conv2d => LayerSpec.Conv2d(Size("in"), Size("out"), Size("kernel"), Size("stride"), Size("padding", min: 0)),
                    LayerKind.MaxPool2d => LayerSpec.MaxPool2d(Size("kernel"), Size("stride")),
                    _ => new LayerSpec(kind),
                });
            }
            return layers;
        }
    }
}
