using System.Globalization;
using System.Text.Json.Nodes;

namespace Backprop.Nn;

/// <summary>
/// A module tree as data: each module is a JSON object naming its kind and the constructor arguments that rebuild it
/// (<c>{"type":"Linear","in_features":784,"out_features":256,"bias":true}</c>), containers hold their children. This is
/// what <see cref="IO.ModelFile"/> writes beside the weights, so a model loads without being declared again.
/// </summary>
/// <remarks>
/// Kinds are a fixed table, never type names looked up by reflection: a file can only ask for the library's own
/// layers, or for those a program registered itself with <see cref="Register{TModule}"/>, so loading a model never
/// loads or runs code named by the file.
/// </remarks>
public static class ModuleArchitecture
{
    private sealed record Kind(string Name, Type Type, Func<Module<Tensor, Tensor>, JsonObject> Describe, Func<JsonObject, Module<Tensor, Tensor>> Build,
        Func<JsonObject, long>? Weights);

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, Kind> ByName = new(StringComparer.Ordinal);
    private static readonly Dictionary<Type, Kind> ByType = [];

    static ModuleArchitecture()
    {
        Add<Sequential>("Sequential", m => new JsonObject { ["layers"] = new JsonArray([.. m.Select(l => (JsonNode)Describe(l))]) },
            j => new Sequential([.. Array(j, "layers").Select(l => Build(Object(l, "layers[]")))]));
        Add<Residual>("Residual", m => new JsonObject { ["body"] = Describe(m.Body), ["shortcut"] = m.Shortcut is null ? null : Describe(m.Shortcut) },
            j => new Residual(Build(Object(j["body"], "body")), j["shortcut"] is null ? null : Build(Object(j["shortcut"], "shortcut"))));
        Add<Linear>("Linear", m => new JsonObject { ["in_features"] = m.InFeatures, ["out_features"] = m.OutFeatures, ["bias"] = m.Bias is not null },
            j => new Linear(Int(j, "in_features"), Int(j, "out_features"), Bool(j, "bias")),
            j => Product(Count(j, "in_features"), Count(j, "out_features")) + BiasCount(j, "out_features"));
        Add<Conv1d>("Conv1d", m => new JsonObject
            {
                ["in_channels"] = m.InChannels, ["out_channels"] = m.OutChannels, ["kernel_size"] = m.KernelSize, ["stride"] = m.Stride,
                ["padding"] = m.Padding, ["dilation"] = m.Dilation, ["groups"] = m.Groups, ["bias"] = m.Bias is not null,
            },
            j => new Conv1d(Int(j, "in_channels"), Int(j, "out_channels"), Int(j, "kernel_size"), Int(j, "stride"), Int(j, "padding", 0),
                Int(j, "dilation"), Int(j, "groups"), Bool(j, "bias")),
            ConvolutionWeights);
        Add<Conv2d>("Conv2d", m => new JsonObject
            {
                ["in_channels"] = m.InChannels, ["out_channels"] = m.OutChannels, ["kernel_size"] = Pair(m.KernelSize), ["stride"] = Pair(m.Stride),
                ["padding"] = Pair(m.Padding), ["dilation"] = Pair(m.Dilation), ["groups"] = m.Groups, ["bias"] = m.Bias is not null,
            },
            j => new Conv2d(Int(j, "in_channels"), Int(j, "out_channels"), Size(j, "kernel_size"), Size(j, "stride"), Size(j, "padding", 0),
                Size(j, "dilation"), Int(j, "groups"), Bool(j, "bias")),
            ConvolutionWeights);
        Add<ConvTranspose2d>("ConvTranspose2d", m => new JsonObject
            {
                ["in_channels"] = m.InChannels, ["out_channels"] = m.OutChannels, ["kernel_size"] = Pair(m.KernelSize), ["stride"] = Pair(m.Stride),
                ["padding"] = Pair(m.Padding), ["output_padding"] = Pair(m.OutputPadding), ["groups"] = m.Groups, ["bias"] = m.Bias is not null,
                ["dilation"] = Pair(m.Dilation),
            },
            j => new ConvTranspose2d(Int(j, "in_channels"), Int(j, "out_channels"), Size(j, "kernel_size"), Size(j, "stride"), Size(j, "padding", 0),
                Size(j, "output_padding", 0), Int(j, "groups"), Bool(j, "bias"), Size(j, "dilation")),
            ConvolutionWeights);
        Add<MaxPool2d>("MaxPool2d", m => new JsonObject
            {
                ["kernel_size"] = Pair(m.KernelSize), ["stride"] = Pair(m.Stride), ["padding"] = Pair(m.Padding), ["dilation"] = Pair(m.Dilation),
                ["ceil_mode"] = m.CeilMode,
            },
            j => new MaxPool2d(Size(j, "kernel_size"), Size(j, "stride"), Size(j, "padding", 0), Size(j, "dilation"), Bool(j, "ceil_mode")));
        Add<AvgPool2d>("AvgPool2d", m => new JsonObject
            {
                ["kernel_size"] = Pair(m.KernelSize), ["stride"] = Pair(m.Stride), ["padding"] = Pair(m.Padding), ["ceil_mode"] = m.CeilMode,
                ["count_include_pad"] = m.CountIncludePad,
            },
            j => new AvgPool2d(Size(j, "kernel_size"), Size(j, "stride"), Size(j, "padding", 0), Bool(j, "ceil_mode"), Bool(j, "count_include_pad")));
        Add<AdaptiveAvgPool2d>("AdaptiveAvgPool2d", m => new JsonObject { ["output_size"] = Pair(m.OutputSize) },
            j => new AdaptiveAvgPool2d(Size(j, "output_size")));
        Add<BatchNorm1d>("BatchNorm1d", DescribeBatchNorm,
            j => new BatchNorm1d(Int(j, "num_features"), Double(j, "eps"), NullableDouble(j, "momentum"), Bool(j, "affine"), Bool(j, "track_running_stats")),
            j => Product(4, Count(j, "num_features")));
        Add<BatchNorm2d>("BatchNorm2d", DescribeBatchNorm,
            j => new BatchNorm2d(Int(j, "num_features"), Double(j, "eps"), NullableDouble(j, "momentum"), Bool(j, "affine"), Bool(j, "track_running_stats")),
            j => Product(4, Count(j, "num_features")));
        Add<LayerNorm>("LayerNorm", m => new JsonObject
            {
                ["normalized_shape"] = new JsonArray([.. m.NormalizedShape.Select(d => (JsonNode)d)]), ["eps"] = m.Eps,
                ["elementwise_affine"] = m.Weight is not null, ["bias"] = m.Bias is not null,
            },
            j => new LayerNorm([.. Array(j, "normalized_shape").Select(d => Positive(d, "normalized_shape"))], Double(j, "eps"),
                Bool(j, "elementwise_affine"), Bool(j, "bias")),
            j => Product(2, Count(j, "normalized_shape")));
        Add<GroupNorm>("GroupNorm", m => new JsonObject
            {
                ["num_groups"] = m.NumGroups, ["num_channels"] = m.NumChannels, ["eps"] = m.Eps, ["affine"] = m.Weight is not null,
            },
            j => new GroupNorm(Int(j, "num_groups"), Int(j, "num_channels"), Double(j, "eps"), Bool(j, "affine")),
            j => Product(2, Count(j, "num_channels")));
        Add<Embedding>("Embedding", m => new JsonObject
            {
                ["num_embeddings"] = m.NumEmbeddings, ["embedding_dim"] = m.EmbeddingDim, ["padding_idx"] = m.PaddingIndex,
            },
            j => new Embedding(Int(j, "num_embeddings"), Int(j, "embedding_dim"), j["padding_idx"] is null ? null : Int(j, "padding_idx", int.MinValue)),
            j => Product(Count(j, "num_embeddings"), Count(j, "embedding_dim")));
        Add<Dropout>("Dropout", m => new JsonObject { ["p"] = m.P }, j => new Dropout(Double(j, "p")));
        Add<Dropout2d>("Dropout2d", m => new JsonObject { ["p"] = m.P }, j => new Dropout2d(Double(j, "p")));
        Add<Flatten>("Flatten", m => new JsonObject { ["start_dim"] = m.StartDim, ["end_dim"] = m.EndDim },
            j => new Flatten(Int(j, "start_dim", int.MinValue), Int(j, "end_dim", int.MinValue)));
        Add<Upsample>("Upsample", m => new JsonObject { ["size"] = m.Size is { } s ? Pair(s) : null, ["scale_factor"] = m.ScaleFactor },
            j => new Upsample(j["size"] is null ? null : Size(j, "size"), NullableDouble(j, "scale_factor")));
        Add<LeakyRelu>("LeakyRelu", m => new JsonObject { ["negative_slope"] = m.NegativeSlope }, j => new LeakyRelu(Double(j, "negative_slope")));
        Add<Elu>("Elu", m => new JsonObject { ["alpha"] = m.Alpha }, j => new Elu(Double(j, "alpha")));
        Add<Softplus>("Softplus", m => new JsonObject { ["beta"] = m.Beta }, j => new Softplus(Double(j, "beta")));
        Add<Softmax>("Softmax", m => new JsonObject { ["dim"] = m.Dim }, j => new Softmax(Int(j, "dim", int.MinValue)));
        Add<LogSoftmax>("LogSoftmax", m => new JsonObject { ["dim"] = m.Dim }, j => new LogSoftmax(Int(j, "dim", int.MinValue)));
        Add<Identity>("Identity", _ => [], _ => new Identity());
        Add<Relu>("Relu", _ => [], _ => new Relu());
        Add<Sigmoid>("Sigmoid", _ => [], _ => new Sigmoid());
        Add<Tanh>("Tanh", _ => [], _ => new Tanh());
        Add<Silu>("Silu", _ => [], _ => new Silu());
        Add<Gelu>("Gelu", _ => [], _ => new Gelu());
    }

    /// <summary>
    /// Lets files name a module kind of the program's own: <paramref name="describe"/> writes its constructor
    /// arguments, <paramref name="build"/> rebuilds it from them (children through <see cref="Build"/>).
    /// </summary>
    public static void Register<TModule>(string name, Func<TModule, JsonObject> describe, Func<JsonObject, TModule> build)
        where TModule : Module<Tensor, Tensor>
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (Gate)
        {
            if (ByName.TryGetValue(name, out var existing) && existing.Type != typeof(TModule))
                throw new ArgumentException($"ModuleArchitecture: the kind '{name}' is already registered for {existing.Type.Name}.", nameof(name));
            Add(name, describe, build);
        }
    }

    private static void Add<TModule>(string name, Func<TModule, JsonObject> describe, Func<JsonObject, TModule> build,
        Func<JsonObject, long>? weights = null)
        where TModule : Module<Tensor, Tensor>
    {
        var kind = new Kind(name, typeof(TModule), m => describe((TModule)m), j => build(j), weights);
        ByName[name] = kind;
        ByType[typeof(TModule)] = kind;
    }

    /// <summary>The JSON description of <paramref name="module"/> and everything in it.</summary>
    /// <exception cref="NotSupportedException">A module of a kind neither the library nor the program registered.</exception>
    public static JsonObject Describe(Module<Tensor, Tensor> module)
    {
        ArgumentNullException.ThrowIfNull(module);
        Kind? kind;
        lock (Gate) ByType.TryGetValue(module.GetType(), out kind);
        if (kind is null)
            throw new NotSupportedException(
                $"ModuleArchitecture: {module.GetType().Name} is not a module kind the library can describe; register it with " +
                $"ModuleArchitecture.Register, or save its weights alone with SafeTensors.Save(path, model.StateDict()).");
        var description = kind.Describe(module);
        var tagged = new JsonObject { ["type"] = kind.Name };
        foreach (var (key, value) in description.ToList())
        {
            description.Remove(key);
            tagged[key] = value;
        }
        return tagged;
    }

    /// <summary>A new module built from a description <see cref="Describe"/> wrote (weights freshly initialised).</summary>
    /// <exception cref="FormatException">The description names an unknown kind or holds a missing or invalid argument.</exception>
    public static Module<Tensor, Tensor> Build(JsonObject description)
    {
        ArgumentNullException.ThrowIfNull(description);
        var name = description["type"] is JsonValue v && v.TryGetValue(out string? s) ? s : throw new FormatException("a module description has no \"type\"");
        Kind? kind;
        lock (Gate) ByName.TryGetValue(name, out kind);
        if (kind is null) throw new FormatException($"the module kind \"{name}\" is not one the library knows or the program registered");
        try
        {
            return kind.Build(description);
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"{name}: {e.Message}", e);
        }
    }

    /// <summary>
    /// How many values the weights of a described model hold, computed from the description without building it, so a
    /// loader can refuse a file whose architecture asks for more memory than its weights could fill.
    /// </summary>
    internal static long DeclaredWeights(JsonNode? node, int depth = 0)
    {
        if (depth > 256) throw new FormatException("the module description nests too deeply");
        long total = 0;
        switch (node)
        {
            case JsonObject obj:
                if (obj["type"] is JsonValue v && v.TryGetValue(out string? name))
                {
                    Kind? kind;
                    lock (Gate) ByName.TryGetValue(name, out kind);
                    if (kind?.Weights is { } weights) total = Add(total, weights(obj));
                }
                foreach (var (_, child) in obj) total = Add(total, DeclaredWeights(child, depth + 1));
                break;
            case JsonArray array:
                foreach (var child in array) total = Add(total, DeclaredWeights(child, depth + 1));
                break;
        }
        return total;

        static long Add(long a, long b) => a > long.MaxValue - b ? long.MaxValue : a + b;
    }

    /// <summary>The product of sizes, saturating at <see cref="long.MaxValue"/> (a hostile file may declare anything).</summary>
    private static long Product(params long[] sizes)
    {
        long product = 1;
        foreach (var size in sizes)
        {
            if (size <= 0) return 0;
            product = product > long.MaxValue / size ? long.MaxValue : product * size;
        }
        return product;
    }

    private static long Count(JsonObject j, string key) => j[key] switch
    {
        JsonValue v when v.TryGetValue(out long l) => Math.Max(0, l),
        JsonArray a => Product([.. a.Select(e => e is JsonValue ev && ev.TryGetValue(out long l) ? l : 0)]),
        _ => 0,
    };

    private static long BiasCount(JsonObject j, string size) => j["bias"] is JsonValue v && v.TryGetValue(out bool b) && b ? Count(j, size) : 0;

    /// <summary>A convolution's kernel (in·out/groups·kernel values) and bias.</summary>
    private static long ConvolutionWeights(JsonObject j)
    {
        long groups = Math.Max(1, Count(j, "groups"));
        return Product(Count(j, "in_channels"), Count(j, "out_channels") / groups, Count(j, "kernel_size")) + BiasCount(j, "out_channels");
    }

    private static JsonObject DescribeBatchNorm(BatchNormBase m) => new()
    {
        ["num_features"] = m.NumFeatures, ["eps"] = m.Eps, ["momentum"] = m.Momentum, ["affine"] = m.Weight is not null,
        ["track_running_stats"] = m.TrackRunningStats,
    };

    private static JsonArray Pair(Size2d size) => [size.Height, size.Width];

    private static JsonNode Required(JsonObject j, string key) =>
        j[key] ?? throw new FormatException($"the argument \"{key}\" is missing");

    private static int Int(JsonObject j, string key, int min = 1) =>
        Required(j, key) is JsonValue v && v.TryGetValue(out int i) && i >= min
            ? i
            : throw new FormatException($"the argument \"{key}\" = {j[key]?.ToJsonString()} is not an integer of at least {min.ToString(CultureInfo.InvariantCulture)}");

    private static int Positive(JsonNode? n, string key) =>
        n is JsonValue v && v.TryGetValue(out int i) && i > 0 ? i : throw new FormatException($"\"{key}\" holds {n?.ToJsonString()}, not a positive size");

    private static double Double(JsonObject j, string key) =>
        Required(j, key) is JsonValue v && v.TryGetValue(out double d) && double.IsFinite(d)
            ? d
            : throw new FormatException($"the argument \"{key}\" = {j[key]?.ToJsonString()} is not a finite number");

    private static double? NullableDouble(JsonObject j, string key) => j[key] is null ? null : Double(j, key);

    private static bool Bool(JsonObject j, string key) =>
        Required(j, key) is JsonValue v && v.TryGetValue(out bool b) ? b : throw new FormatException($"the argument \"{key}\" is not true or false");

    private static Size2d Size(JsonObject j, string key, int min = 1) =>
        Required(j, key) is JsonArray { Count: 2 } pair && pair[0] is JsonValue h && pair[1] is JsonValue w && h.TryGetValue(out int height) && w.TryGetValue(out int width) && height >= min && width >= min
            ? new Size2d(height, width)
            : throw new FormatException($"the argument \"{key}\" = {j[key]?.ToJsonString()} is not a pair of integers of at least {min.ToString(CultureInfo.InvariantCulture)}");

    private static JsonArray Array(JsonObject j, string key) =>
        Required(j, key) as JsonArray ?? throw new FormatException($"the argument \"{key}\" is not a list");

    private static JsonObject Object(JsonNode? node, string key) =>
        node as JsonObject ?? throw new FormatException($"\"{key}\" is not a module description");
}
