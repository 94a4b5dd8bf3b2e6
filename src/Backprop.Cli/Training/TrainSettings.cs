using System.Globalization;
using Backprop.IO;

namespace Backprop.Cli.Training;

/// <summary>
/// What defines a training run, apart from how long it runs and where its files go: a checkpoint records these, and a
/// resumed run takes them from it (so it continues the same run, bit for bit).
/// </summary>
/// <param name="Hidden">The hidden widths of an <c>mlp</c>.</param>
/// <param name="Limit">Use at most this many training and test samples (null: all).</param>
/// <param name="Amp">Mixed precision: <c>bf16</c> or <c>fp16</c> (autocast; fp16 with a GradScaler), or null for float32.</param>
public sealed record TrainSettings(
    string Dataset, string Model, IReadOnlyList<int> Hidden, WeightInit Init, OptimizerKind Optimizer, double LearningRate,
    int BatchSize, ulong Seed, int? Limit, string? Amp = null)
{
    /// <summary>The values of <c>--amp</c> and the low-precision dtype each trains in.</summary>
    public static IReadOnlyDictionary<string, DType> AmpNames { get; } = new Dictionary<string, DType>(StringComparer.Ordinal)
    {
        ["bf16"] = DType.BFloat16,
        ["fp16"] = DType.Float16,
    };

    private const string Prefix = "run.";

    /// <summary>Names of <see cref="WeightInit"/> for <c>--init</c>.</summary>
    public static IReadOnlyDictionary<string, WeightInit> InitNames { get; } = new Dictionary<string, WeightInit>(StringComparer.Ordinal)
    {
        ["default"] = WeightInit.Default,
        ["he"] = WeightInit.He,
    };

    public static string NameOf(WeightInit init) => InitNames.First(e => e.Value == init).Key;

    /// <summary>The command that starts this run: <c>train moons --model mlp --hidden 16,16 …</c>.</summary>
    public string CommandLine =>
        $"train {Dataset} --model {Model} --hidden {HiddenText(Hidden)} --init {NameOf(Init)} --optimizer {Optimizers.NameOf(Optimizer)} " +
        $"--lr {Number(LearningRate)} --batch-size {BatchSize.ToString(CultureInfo.InvariantCulture)} --seed {Seed.ToString(CultureInfo.InvariantCulture)}" +
        (Limit is int n ? $" --limit {n.ToString(CultureInfo.InvariantCulture)}" : "") +
        (Amp is { } amp ? $" --amp {amp}" : "");

    public static string HiddenText(IReadOnlyList<int> hidden) => string.Join(",", hidden.Select(h => h.ToString(CultureInfo.InvariantCulture)));

    /// <summary>A number in round-trip form, so a learning rate read back is the same double.</summary>
    public static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    public void WriteMetadata(IDictionary<string, string> metadata)
    {
        metadata[Prefix + "dataset"] = Dataset;
        metadata[Prefix + "model"] = Model;
        metadata[Prefix + "hidden"] = HiddenText(Hidden);
        metadata[Prefix + "init"] = NameOf(Init);
        metadata[Prefix + "optimizer"] = Optimizers.NameOf(Optimizer);
        metadata[Prefix + "learning_rate"] = Number(LearningRate);
        metadata[Prefix + "batch_size"] = BatchSize.ToString(CultureInfo.InvariantCulture);
        metadata[Prefix + "seed"] = Seed.ToString(CultureInfo.InvariantCulture);
        if (Limit is int limit) metadata[Prefix + "limit"] = limit.ToString(CultureInfo.InvariantCulture);
        if (Amp is { } amp) metadata[Prefix + "amp"] = amp;
    }

    /// <summary>Reads what <see cref="WriteMetadata"/> wrote; a missing or malformed entry throws naming <paramref name="file"/>.</summary>
    public static TrainSettings ReadMetadata(IReadOnlyDictionary<string, string> metadata, string file)
    {
        string Get(string key) => metadata.TryGetValue(Prefix + key, out var value)
            ? value
            : throw new MalformedFileException(file, $"its metadata has no '{Prefix + key}' entry (not a checkpoint written by `backprop train`?)");
        MalformedFileException Bad(string key) => new(file, $"metadata '{Prefix + key}' = '{metadata[Prefix + key]}' is not valid");
        int Int(string key) => int.TryParse(Get(key), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0 ? v : throw Bad(key);

        var hidden = ParseHidden(Get("hidden")) ?? throw Bad("hidden");
        var init = InitNames.TryGetValue(Get("init"), out var i) ? i : throw Bad("init");
        var optimizer = Optimizers.ByName.TryGetValue(Get("optimizer"), out var o) ? o : throw Bad("optimizer");
        var rate = double.TryParse(Get("learning_rate"), NumberStyles.Float, CultureInfo.InvariantCulture, out var r) && r > 0 ? r : throw Bad("learning_rate");
        var seed = ulong.TryParse(Get("seed"), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : throw Bad("seed");
        int? limit = metadata.ContainsKey(Prefix + "limit") ? Int("limit") : null;
        string? amp = metadata.ContainsKey(Prefix + "amp") ? (AmpNames.ContainsKey(Get("amp")) ? Get("amp") : throw Bad("amp")) : null;
        return new TrainSettings(Get("dataset"), Get("model"), hidden, init, optimizer, rate, Int("batch_size"), seed, limit, amp);
    }

    /// <summary>Comma-separated positive widths (<c>16,16</c>), or null when the text is not that.</summary>
    public static int[]? ParseHidden(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var widths = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out widths[i]) || widths[i] <= 0) return null;
        return widths;
    }
}
