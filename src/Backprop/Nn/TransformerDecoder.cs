using System.Runtime.CompilerServices;

namespace Backprop.Nn;

/// <summary>
/// A stack of <see cref="TransformerDecoderLayer"/>s, each attending to the same memory, then an optional final
/// <see cref="Norm"/>. State-dict names are PyTorch's: <c>layers.0.multihead_attn.in_proj_weight</c>, …, <c>norm.weight</c>.
/// Each layer is made by <c>createLayer</c> (PyTorch deep-copies one; see <see cref="TransformerEncoder"/>).
/// </summary>
public sealed class TransformerDecoder : Module
{
    /// <param name="createLayer">Makes layer i (0-based).</param>
    public TransformerDecoder(Func<int, TransformerDecoderLayer> createLayer, int numLayers, LayerNorm? norm = null)
    {
        ArgumentNullException.ThrowIfNull(createLayer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        Layers = [.. Enumerable.Range(0, numLayers).Select(createLayer)];
        Norm = norm;
    }

    public TransformerDecoder(IEnumerable<TransformerDecoderLayer> layers, LayerNorm? norm = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        Layers = [.. layers];
        if (Layers.Count == 0) throw new ArgumentException("TransformerDecoder: needs at least one layer.", nameof(layers));
        Norm = norm;
    }

    public IReadOnlyList<TransformerDecoderLayer> Layers { get; }

    /// <summary>Applied after the last layer, or null.</summary>
    public LayerNorm? Norm { get; }

    /// <summary>Runs every layer on <paramref name="tgt"/> with the same memory and masks (see <see cref="TransformerDecoderLayer.Forward"/>).</summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        ArgumentNullException.ThrowIfNull(tgt);
        ArgumentNullException.ThrowIfNull(memory);
        using (NodeOrigin.EnterModule(ScopeOrigin, callerFile, callerLine))
        {
            var x = tgt;
            foreach (var layer in Layers)
                x = layer.Forward(x, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal);
            return Norm is null ? x : Norm.Forward(x);
        }
    }
}
