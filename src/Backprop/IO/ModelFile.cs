using System.Text.Json;
using System.Text.Json.Nodes;
using Backprop.Nn;

namespace Backprop.IO;

/// <summary>
/// A whole model in one safetensors file: its weights under their state-dict names (as PyTorch writes them) and, in
/// the file's metadata, its architecture (<see cref="ModuleArchitecture"/>), so <see cref="Load"/> rebuilds the model
/// without the program declaring it again.
/// </summary>
/// <example>
/// <code>
/// ModelFile.Save(model, "model.safetensors");
/// var same = ModelFile.Load&lt;Sequential&gt;("model.safetensors");
/// </code>
/// </example>
/// <remarks>
/// The file is plain data: the architecture names only module kinds the library knows or the program registered, and
/// a file that asks for more weights than it holds, names an unknown kind or has weights of the wrong shape fails with
/// a <see cref="MalformedFileException"/> naming the file and the problem. Nothing in it is ever run or loaded as code.
/// </remarks>
public static class ModelFile
{
    /// <summary>The value of <c>backprop.format</c> that marks a model file.</summary>
    public const string Format = "model/1";

    private const string FormatKey = "backprop.format";
    private const string ArchitectureKey = "backprop.architecture";

    /// <summary>Writes <paramref name="model"/> (atomically) with optional extra <paramref name="metadata"/>.</summary>
    /// <exception cref="NotSupportedException">The model holds a module kind <see cref="ModuleArchitecture"/> cannot describe.</exception>
    public static void Save(Module<Tensor, Tensor> model, string path, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        var entries = new Dictionary<string, string>(metadata ?? new Dictionary<string, string>())
        {
            [FormatKey] = Format,
            [ArchitectureKey] = ModuleArchitecture.Describe(model).ToJsonString(),
        };
        SafeTensors.Save(path, model.StateDict(), entries);
    }

    /// <summary>The model saved in <paramref name="path"/>, in evaluation mode, with its weights in their saved dtype.</summary>
    public static Module<Tensor, Tensor> Load(string path)
    {
        var content = SafeTensors.Load(path);
        if (content.Metadata.GetValueOrDefault(FormatKey) != Format)
            throw new MalformedFileException(path, content.Metadata.TryGetValue(FormatKey, out var other)
                ? $"its backprop.format is '{other}', not a model file ('{Format}')"
                : "it holds tensors but no model architecture (write it with ModelFile.Save, or load its weights with SafeTensors.Load)");
        if (!content.Metadata.TryGetValue(ArchitectureKey, out var text))
            throw new MalformedFileException(path, $"its metadata has no '{ArchitectureKey}' entry");

        Module<Tensor, Tensor> model;
        try
        {
            var description = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { MaxDepth = 256 }) as JsonObject
                ?? throw new FormatException("the architecture is not a JSON object");
            long stored = content.Tensors.Values.Sum(t => (long)t.NumElements);
            long declared = ModuleArchitecture.DeclaredWeights(description);
            if (declared > stored)
                throw new FormatException($"the architecture declares {declared:N0} weight values but the file stores {stored:N0}");
            model = ModuleArchitecture.Build(description);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw new MalformedFileException(path, $"its architecture cannot be rebuilt: {e.Message}", e);
        }

        if (content.Tensors.Values.FirstOrDefault(t => t.DType.IsFloatingPoint()) is { } first && first.DType != DType.Float32)
            model.To(first.DType);
        try
        {
            model.LoadStateDict(content.Tensors);
        }
        catch (Exception e) when (e is StateDictMismatchException or ArgumentException)
        {
            throw new MalformedFileException(path, $"its weights do not fit its architecture: {e.Message}", e);
        }
        model.Eval();
        return model;
    }

    /// <summary><see cref="Load"/>, checked to be a <typeparamref name="TModule"/>.</summary>
    public static TModule Load<TModule>(string path) where TModule : Module<Tensor, Tensor> =>
        Load(path) as TModule ?? throw new MalformedFileException(path, $"it holds a model that is not a {typeof(TModule).Name}");
}
