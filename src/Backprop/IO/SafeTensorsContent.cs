namespace Backprop.IO;

/// <summary>What a safetensors file holds: named tensors (in the file's header order) and the string metadata map.</summary>
public sealed record SafeTensorsContent(IReadOnlyDictionary<string, Tensor> Tensors, IReadOnlyDictionary<string, string> Metadata);
