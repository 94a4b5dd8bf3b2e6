using System.Globalization;
using System.Text.Json;
using Backprop.Data;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Cli.Training;

/// <summary>The two families of character models <c>backprop train text --model</c> builds.</summary>
public enum LanguageModelFamily
{
    Lstm,
    Transformer,
}

/// <summary>
/// What it takes to rebuild a character model: the family and its sizes. For the LSTM, <see cref="Width"/> is the
/// hidden size and <see cref="EmbeddingDim"/> the embedding width; for the transformer, <see cref="Width"/> is
/// d_model (the embedding width too), with <see cref="Heads"/> heads and a context of <see cref="ContextLength"/>.
/// </summary>
public sealed record LanguageModelSpec(LanguageModelFamily Family, int VocabSize, int EmbeddingDim, int Width, int Layers, int Heads, int ContextLength)
{
    public static IReadOnlyDictionary<string, LanguageModelFamily> FamilyNames { get; } =
        new Dictionary<string, LanguageModelFamily>(StringComparer.Ordinal) { ["lstm"] = LanguageModelFamily.Lstm, ["transformer"] = LanguageModelFamily.Transformer };

    public string FamilyName => FamilyNames.First(e => e.Value == Family).Key;

    /// <summary>The model with fresh weights drawn from <paramref name="generator"/>.</summary>
    public (Module Module, ILanguageModel Model) Build(Generator generator)
    {
        if (Family == LanguageModelFamily.Lstm)
        {
            var lstm = new LstmLanguageModel(VocabSize, EmbeddingDim, Width, Layers, generator: generator);
            return (lstm, lstm);
        }
        var gpt = new TransformerLanguageModel(VocabSize, ContextLength, Width, Layers, Heads, generator: generator);
        return (gpt, gpt);
    }

    /// <summary>One line for the run's header.</summary>
    public string Describe() => Family == LanguageModelFamily.Lstm
        ? $"Embedding({VocabSize}, {EmbeddingDim}) → LSTM({EmbeddingDim}, {Width}, layers {Layers}) → Linear({Width}, {VocabSize})"
        : $"GPT: token + position embeddings ({VocabSize}, {ContextLength} × {Width}), {Layers} pre-norm blocks of {Heads}-head causal attention and GELU MLP, head tied to the token embedding";
}

/// <summary>
/// A trained character model as <c>backprop train text --out DIR</c> saves it and <c>backprop generate --model DIR</c>
/// loads it: <c>DIR/model.safetensors</c>, the weights (PyTorch-style names) with metadata recording the family,
/// the sizes and the vocabulary (a JSON array of the characters in id order), so the model is rebuilt exactly.
/// </summary>
public static class LanguageModelFile
{
    public const string FileName = "model.safetensors";
    public const string Format = "language-model/1";
    private const string FormatKey = "backprop.format";
    private const string Prefix = "backprop.lm.";

    /// <summary>Writes the model into <paramref name="directory"/> (created if needed); <paramref name="extra"/> adds informational metadata.</summary>
    public static string Save(string directory, Module module, LanguageModelSpec spec, CharVocabulary vocabulary, IReadOnlyDictionary<string, string>? extra = null)
    {
        Directory.CreateDirectory(directory);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        if (extra is not null)
            foreach (var (key, value) in extra) metadata[key] = value;
        metadata[FormatKey] = Format;
        metadata[Prefix + "family"] = spec.FamilyName;
        metadata[Prefix + "vocabulary"] = JsonSerializer.Serialize(vocabulary.Symbols);
        metadata[Prefix + "embedding_dim"] = Text(spec.EmbeddingDim);
        metadata[Prefix + "width"] = Text(spec.Width);
        metadata[Prefix + "layers"] = Text(spec.Layers);
        metadata[Prefix + "heads"] = Text(spec.Heads);
        metadata[Prefix + "context_length"] = Text(spec.ContextLength);
        var path = Path.Combine(directory, FileName);
        SafeTensors.Save(path, module.StateDict(), metadata);
        return path;
    }

    /// <summary>Reads a model saved by <see cref="Save"/> from its directory (or the file itself); anything wrong throws naming the file.</summary>
    public static (Module Module, ILanguageModel Model, LanguageModelSpec Spec, CharVocabulary Vocabulary) Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, FileName);
        if (!File.Exists(path)) throw new UsageException($"no model at '{path}'; `backprop train text --out DIR` writes DIR/{FileName}.");
        var content = SafeTensors.Load(path);
        var metadata = content.Metadata;
        var format = metadata.GetValueOrDefault(FormatKey);
        if (format != Format)
            throw new MalformedFileException(path, format is null
                ? "not a Backprop language model: its metadata has no 'backprop.format' entry (write one with `backprop train text --out DIR`)"
                : $"'backprop.format' is '{format}', not a character language model ('{Format}'; `backprop predict` reads classifiers)");
        string Entry(string name) => metadata.TryGetValue(Prefix + name, out var value)
            ? value
            : throw new MalformedFileException(path, $"its metadata lacks '{Prefix + name}'");
        int Integer(string name) => int.TryParse(Entry(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) && v >= 0
            ? v
            : throw new MalformedFileException(path, $"metadata '{Prefix + name}' = '{Entry(name)}' is not a non-negative integer");
        if (!LanguageModelSpec.FamilyNames.TryGetValue(Entry("family"), out var family))
            throw new MalformedFileException(path, $"metadata '{Prefix}family' = '{Entry("family")}' is not one of {string.Join(", ", LanguageModelSpec.FamilyNames.Keys)}");
        CharVocabulary vocabulary;
        try
        {
            vocabulary = new CharVocabulary(JsonSerializer.Deserialize<string[]>(Entry("vocabulary")) ?? []);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new MalformedFileException(path, $"metadata '{Prefix}vocabulary' is not a JSON array of distinct characters: {e.Message}", e);
        }
        var spec = new LanguageModelSpec(family, vocabulary.Count, Integer("embedding_dim"), Integer("width"), Integer("layers"), Integer("heads"), Integer("context_length"));
        Module module;
        ILanguageModel model;
        try
        {
            (module, model) = spec.Build(new Generator(0));
            module.LoadStateDict(content.Tensors);
        }
        catch (Exception e) when (e is StateDictMismatchException or ArgumentException)
        {
            throw new MalformedFileException(path, $"the weights do not fit the model its metadata describes: {e.Message}", e);
        }
        module.Eval();
        return (module, model, spec, vocabulary);
    }

    private static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);
}
