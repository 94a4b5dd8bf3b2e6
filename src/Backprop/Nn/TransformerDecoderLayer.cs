using System.Globalization;
using System.Runtime.CompilerServices;

namespace Backprop.Nn;

/// <summary>
/// PyTorch's <c>nn.TransformerDecoderLayer</c>: self-attention over the target, attention from the target to the
/// encoder's output (<c>memory</c>), then a feed-forward block; each with dropout and a residual connection, and layer
/// norms after each block (post-norm) or before (<see cref="NormFirst"/>). Member names are PyTorch's (<c>self_attn</c>,
/// <c>multihead_attn</c>, <c>linear1</c>, <c>linear2</c>, <c>norm1</c>..<c>norm3</c>), so its state dicts load unchanged.
/// </summary>
public sealed class TransformerDecoderLayer : Module
{
    /// <param name="dModel">The model size E.</param>
    /// <param name="nhead">Attention heads; divides <paramref name="dModel"/>.</param>
    /// <param name="dimFeedforward">The hidden size of the feed-forward block.</param>
    /// <param name="dropout">Dropout after each block, inside the feed-forward block, and on the attention weights.</param>
    /// <param name="batchFirst">Inputs are [batch, seq, E] instead of [seq, batch, E].</param>
    /// <param name="normFirst">Layer norm before each block (pre-norm) instead of after the residual sum.</param>
    /// <param name="generator">Draws the initial weights and dropout masks; <see cref="Generator.Default"/> when null.</param>
    public TransformerDecoderLayer(int dModel, int nhead, int dimFeedforward = 2048, double dropout = 0.1,
        TransformerActivation activation = TransformerActivation.Relu, double layerNormEps = 1e-5, bool batchFirst = false,
        bool normFirst = false, bool bias = true, DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    {
        if (dimFeedforward <= 0) throw new ArgumentOutOfRangeException(nameof(dimFeedforward), $"TransformerDecoderLayer: dimFeedforward must be positive; got {dimFeedforward}.");
        SelfAttn = new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst: batchFirst, dtype: dtype, generator: generator, device: device);
        MultiheadAttn = new MultiheadAttention(dModel, nhead, dropout, bias, batchFirst: batchFirst, dtype: dtype, generator: generator, device: device);
        Linear1 = new Linear(dModel, dimFeedforward, bias, dtype, generator, device);
        Dropout = new Dropout(dropout, generator);
        Linear2 = new Linear(dimFeedforward, dModel, bias, dtype, generator, device);
        NormFirst = normFirst;
        Norm1 = new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype, device: device);
        Norm2 = new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype, device: device);
        Norm3 = new LayerNorm(dModel, layerNormEps, bias: bias, dtype: dtype, device: device);
        Dropout1 = new Dropout(dropout, generator);
        Dropout2 = new Dropout(dropout, generator);
        Dropout3 = new Dropout(dropout, generator);
        Activation = activation;
    }

    public MultiheadAttention SelfAttn { get; }
    public MultiheadAttention MultiheadAttn { get; }
    public Linear Linear1 { get; }
    public Dropout Dropout { get; }
    public Linear Linear2 { get; }
    public bool NormFirst { get; }
    public LayerNorm Norm1 { get; }
    public LayerNorm Norm2 { get; }
    public LayerNorm Norm3 { get; }
    public Dropout Dropout1 { get; }
    public Dropout Dropout2 { get; }
    public Dropout Dropout3 { get; }
    public TransformerActivation Activation { get; }

    /// <summary>
    /// Runs the layer on <paramref name="tgt"/> [T, N, E] attending to <paramref name="memory"/> [S, N, E] (batch first
    /// with <c>batchFirst</c>). Masks are in <see cref="MultiheadAttention"/>'s convention (Bool true = not allowed /
    /// padding; float added); <paramref name="tgtIsCausal"/> applies the causal mask to the self-attention.
    /// </summary>
    public Tensor Forward(Tensor tgt, Tensor memory, Tensor? tgtMask = null, Tensor? memoryMask = null, Tensor? tgtKeyPaddingMask = null,
        Tensor? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        ArgumentNullException.ThrowIfNull(tgt);
        ArgumentNullException.ThrowIfNull(memory);
        using (NodeOrigin.EnterModule(ScopeOrigin, callerFile, callerLine))
        {
            var x = tgt;
            if (NormFirst)
            {
                x = x + SelfAttentionBlock(Norm1.Forward(x), tgtMask, tgtKeyPaddingMask, tgtIsCausal);
                x = x + CrossAttentionBlock(Norm2.Forward(x), memory, memoryMask, memoryKeyPaddingMask, memoryIsCausal);
                return x + FeedForwardBlock(Norm3.Forward(x));
            }
            x = Norm1.Forward(x + SelfAttentionBlock(x, tgtMask, tgtKeyPaddingMask, tgtIsCausal));
            x = Norm2.Forward(x + CrossAttentionBlock(x, memory, memoryMask, memoryKeyPaddingMask, memoryIsCausal));
            return Norm3.Forward(x + FeedForwardBlock(x));
        }
    }

    private Tensor SelfAttentionBlock(Tensor x, Tensor? mask, Tensor? keyPaddingMask, bool isCausal) =>
        Dropout1.Forward(SelfAttn.Forward(x, x, x, keyPaddingMask, needWeights: false, attnMask: mask, isCausal: isCausal).Output);

    private Tensor CrossAttentionBlock(Tensor x, Tensor memory, Tensor? mask, Tensor? keyPaddingMask, bool isCausal) =>
        Dropout2.Forward(MultiheadAttn.Forward(x, memory, memory, keyPaddingMask, needWeights: false, attnMask: mask, isCausal: isCausal).Output);

    private Tensor FeedForwardBlock(Tensor x) =>
        Dropout3.Forward(Linear2.Forward(Dropout.Forward(TransformerActivations.Apply(Activation, Linear1.Forward(x)))));

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"activation: {Activation}, normFirst: {NormFirst}");
}
