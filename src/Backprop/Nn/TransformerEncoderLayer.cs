using System.Globalization;
using System.Runtime.CompilerServices;

namespace Backprop.Nn;

/// <summary>
/// PyTorch's <c>nn.TransformerEncoderLayer</c>: self-attention then a feed-forward block (Linear, activation, dropout,
/// Linear), each with dropout and a residual connection, and layer norms after each block (post-norm) or before
/// (<see cref="NormFirst"/>, pre-norm). Member names are PyTorch's (<c>self_attn</c>, <c>linear1</c>, <c>linear2</c>,
/// <c>norm1</c>, <c>norm2</c>), so its state dicts load unchanged.
/// </summary>
public sealed class TransformerEncoderLayer : Module<Tensor, Tensor>
{
    /// <param name="dModel">The model size E.</param>
    /// <param name="nhead">Attention heads; divides <paramref name="dModel"/>.</param>
    /// <param name="dimFeedforward">The hidden size of the feed-forward block.</param>
    /// <param name="dropout">Dropout after attention, inside and after the feed-forward block, and on the attention weights.</param>
    /// <param name="batchFirst">Inputs are [batch, seq, E] instead of [seq, batch, E].</param>
    /// <param name="normFirst">Layer norm before each block (pre-norm) instead of after the residual sum.</param>
    /// <param name="generator">Draws the initial weights and dropout masks; <see cref="Generator.Default"/> when null.</param>
    public TransformerEncoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1,
        TransformerActivation activation = TransformerActivation.Relu, double layerNormEps = 1e-5, bool batchFirst = false,
        bool normFirst = false, bool bias = true, DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    {
        if (dimFeedforward <= 0) throw new ArgumentOutOfRangeException(nameof(dimFeedforward), $"TransformerEncoderLayer: dimFeedforward must be positive; got {dimFeedforward}.");
        SelfAttn = new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst: batchFirst, dtype: dtype, generator: generator, device: device);
        Linear1 = new Linear(dModel, dimFeedforward, bias, dtype, generator, device);
        Dropout = new Dropout(dropout, generator);
        Linear2 = new Linear(dimFeedforward, dModel, bias, dtype, generator, device);
        NormFirst = normFirst;
        Norm1 = new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype, device: device);
        Norm2 = new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype, device: device);
        Dropout1 = new Dropout(dropout, generator);
        Dropout2 = new Dropout(dropout, generator);
        Activation = activation;
    }

    public MultiheadAttention SelfAttn { get; }
    public Linear Linear1 { get; }
    public Dropout Dropout { get; }
    public Linear Linear2 { get; }
    public bool NormFirst { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }
    public Dropout Dropout1 { get; }
    public Dropout Dropout2 { get; }
    public TransformerActivation Activation { get; }

    /// <summary>
    /// The layer with masks: <paramref name="srcMask"/> [L, L] or [N·H, L, L] and <paramref name="srcKeyPaddingMask"/> [N, L]
    /// in <see cref="MultiheadAttention"/>'s convention (Bool true = not allowed / padding; float added).
    /// </summary>
    public Tensor Forward(Tensor src, Tensor? srcMask, Tensor? srcKeyPaddingMask = null, bool isCausal = false,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        ArgumentNullException.ThrowIfNull(src);
        using (NodeOrigin.EnterModule(ScopeOrigin, callerFile, callerLine))
            return Run(src, srcMask, srcKeyPaddingMask, isCausal);
    }

    protected override Tensor ForwardCore(Tensor input) => Run(input, null, null, false);

    private Tensor Run(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal)
    {
        if (NormFirst)
        {
            x = x + SelfAttentionBlock(Norm1.Forward(x), mask, keyPaddingMask, isCausal);
            return x + FeedForwardBlock(Norm2.Forward(x));
        }
        x = Norm1.Forward(x + SelfAttentionBlock(x, mask, keyPaddingMask, isCausal));
        return Norm2.Forward(x + FeedForwardBlock(x));
    }

    private Tensor SelfAttentionBlock(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal) =>
        Dropout1.Forward(SelfAttn.Forward(x, x, x, keyPaddingMask, needWeights: false, attnMask: mask, isCausal: isCausal).Output);

    private Tensor FeedForwardBlock(Tensor x) =>
        Dropout2.Forward(Linear2.Forward(Dropout.Forward(TransformerActivations.Apply(Activation, Linear1.Forward(x)))));

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"activation: {Activation}, normFirst: {NormFirst}");
}
