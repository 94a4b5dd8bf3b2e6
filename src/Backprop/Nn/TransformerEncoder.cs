using System.Runtime.CompilerServices;

namespace Backprop.Nn;

/// <summary>
/// A stack of <see cref="TransformerEncoderLayer"/>s run in order, then an optional final <see cref="Norm"/> (what a
/// pre-norm stack needs). State-dict names are PyTorch's: <c>layers.0.self_attn.in_proj_weight</c>, …, <c>norm.weight</c>.
/// </summary>
/// <remarks>
/// PyTorch deep-copies one layer N times, so all layers start from the same weights; here each layer is made by
/// <c>createLayer</c>, so each draws its own (pass layers built from one seed to reproduce PyTorch's start).
/// </remarks>
public sealed class TransformerEncoder : Module<Tensor, Tensor>
{
    /// <param name="createLayer">Makes layer i (0-based).</param>
    public TransformerEncoder(Func<int, TransformerEncoderLayer> createLayer, int numLayers, LayerNorm? norm = null)
    {
        ArgumentNullException.ThrowIfNull(createLayer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        Layers = [.. Enumerable.Range(0, numLayers).Select(createLayer)];
        Norm = norm;
    }

    public TransformerEncoder(IEnumerable<TransformerEncoderLayer> layers, LayerNorm? norm = null)
    {
        ArgumentNullException.ThrowIfNull(layers);
        Layers = [.. layers];
        if (Layers.Count == 0) throw new ArgumentException("TransformerEncoder: needs at least one layer.", nameof(layers));
        Norm = norm;
    }

    public IReadOnlyList<TransformerEncoderLayer> Layers { get; }

    /// <summary>Applied after the last layer, or null.</summary>
    public LayerNorm? Norm { get; }

    /// <summary>Runs every layer with the same masks (<see cref="TransformerEncoderLayer.Forward(Tensor, Tensor?, Tensor?, bool, string, int)"/>).</summary>
    public Tensor Forward(Tensor src, Tensor? mask, Tensor? srcKeyPaddingMask = null, bool isCausal = false,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        ArgumentNullException.ThrowIfNull(src);
        using (NodeOrigin.EnterModule(ScopeOrigin, callerFile, callerLine))
            return Run(src, mask, srcKeyPaddingMask, isCausal);
    }

    protected override Tensor ForwardCore(Tensor input) => Run(input, null, null, false);

    private Tensor Run(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal)
    {
        foreach (var layer in Layers) x = layer.Forward(x, mask, keyPaddingMask, isCausal);
        return Norm is null ? x : Norm.Forward(x);
    }
}
