namespace Backprop.IO;

public sealed partial class Checkpoint
{
    /// <summary>
    /// Writes the checkpoint as one safetensors file, <see cref="Metadata"/> in its <c>__metadata__</c> map. The write
    /// is atomic: a crash or an error part-way leaves the previous file at <paramref name="path"/> intact.
    /// </summary>
    public void Save(string path) => SafeTensors.Save(path, Tensors, Metadata);

    /// <summary>Reads a checkpoint written by <see cref="Save"/> (or any safetensors file).</summary>
    public static Checkpoint Load(string path)
    {
        var content = SafeTensors.Load(path);
        var checkpoint = new Checkpoint();
        foreach (var (name, tensor) in content.Tensors) checkpoint.Tensors[name] = tensor;
        foreach (var (key, value) in content.Metadata) checkpoint.Metadata[key] = value;
        return checkpoint;
    }

    /// <summary>Writes model weights (a state dict: parameter name → tensor) as a safetensors file, atomically.</summary>
    public static void SaveStateDict(string path, IReadOnlyDictionary<string, Tensor> stateDict, IReadOnlyDictionary<string, string>? metadata = null) =>
        SafeTensors.Save(path, stateDict, metadata);

    /// <summary>Reads model weights written by <see cref="SaveStateDict"/>, or any safetensors file's tensors.</summary>
    public static Dictionary<string, Tensor> LoadStateDict(string path) =>
        new(SafeTensors.Load(path).Tensors, StringComparer.Ordinal);

    /// <summary>The tensor saved under <paramref name="key"/>; throws naming the key (and the nearest keys present) when it is missing.</summary>
    public Tensor GetTensor(string key) =>
        Tensors.TryGetValue(key, out var tensor) ? tensor : throw Missing("tensor", key, Tensors.Keys);

    /// <summary>The metadata string saved under <paramref name="key"/>; throws naming the key when it is missing.</summary>
    public string GetMetadata(string key) =>
        Metadata.TryGetValue(key, out var value) ? value : throw Missing("metadata entry", key, Metadata.Keys);

    /// <summary>Stores a generator's state (base64 of its 41 bytes) in <see cref="Metadata"/> under <paramref name="key"/>.</summary>
    public void SetGenerator(string key, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        Metadata[key] = Convert.ToBase64String(generator.GetState());
    }

    /// <summary>Restores <paramref name="generator"/> to the state stored under <paramref name="key"/> by <see cref="SetGenerator"/>.</summary>
    public void RestoreGenerator(string key, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        generator.SetState(GetGeneratorState(key));
    }

    internal byte[] GetGeneratorState(string key)
    {
        var text = GetMetadata(key);
        byte[] state;
        try
        {
            state = Convert.FromBase64String(text);
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"Checkpoint: metadata entry '{key}' is not a generator state (not base64).", e);
        }
        if (state.Length != 41)
            throw new InvalidDataException($"Checkpoint: metadata entry '{key}' holds {state.Length} bytes; a generator state is 41.");
        return state;
    }

    private static KeyNotFoundException Missing(string what, string key, IEnumerable<string> present)
    {
        // Keys under the same prefix are the likely intended ones (a renamed layer, another optimizer's state).
        var prefix = key.Contains('.') ? key[..(key.LastIndexOf('.') + 1)] : "";
        var keys = present.Order(StringComparer.Ordinal).ToList();
        var related = keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var candidates = related.Count > 0 ? related : keys;
        var shown = candidates.Take(8).ToList();
        var hint = shown.Count == 0 ? " (it is empty)" : $" (it has: {string.Join(", ", shown)}{(shown.Count < candidates.Count ? ", …" : "")})";
        return new KeyNotFoundException($"Checkpoint: no {what} '{key}'{hint}.");
    }
}
