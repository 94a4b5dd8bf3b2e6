namespace Backprop.Nn;

/// <summary>
/// A small GPT: a decoder-only transformer language model. Token and learned position embeddings are added, go
/// through <see cref="Blocks"/> (pre-norm: x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x)), with causal
/// multi-head self-attention on <see cref="Functional.ScaledDotProductAttention"/> and a GELU MLP), a final
/// LayerNorm, and an output head tied to the token embedding: logits = h·Eᵀ with E = <see cref="TokenEmbedding"/>'s
/// weight, one Parameter serving both (as in GPT-2), so the state dict has no separate head weight.
/// </summary>
/// <remarks>
/// Its decoder keeps each block's keys and values (a KV cache), so a new token attends to the cached context
/// instead of recomputing it: O(length) work per token rather than O(length²). Past <see cref="ContextLength"/>
/// tokens the position table ends; the decoder then keeps the last <see cref="ContextLength"/> − 1 tokens and
/// rebuilds its cache from them (a sliding window, as GPT-2's sampling crops the context).
/// Initialisation follows GPT-2: weights N(0, 0.02), biases zero, the projections back into the residual stream
/// N(0, 0.02/√(2·numLayers)).
/// </remarks>
public sealed class TransformerLanguageModel : Module<Tensor, Tensor>, ILanguageModel
{
    /// <param name="vocabSize">Number of token ids.</param>
    /// <param name="contextLength">Longest sequence the position embedding covers.</param>
    /// <param name="dModel">Width of the residual stream.</param>
    /// <param name="numLayers">Transformer blocks.</param>
    /// <param name="numHeads">Attention heads per block (dModel must divide by it).</param>
    /// <param name="dimFeedforward">Hidden width of each block's MLP; 4·dModel when null.</param>
    /// <param name="generator">Draws the initial weights; <see cref="Generator.Default"/> when null.</param>
    public TransformerLanguageModel(int vocabSize, int contextLength = 128, int dModel = 128, int numLayers = 2, int numHeads = 4,
        int? dimFeedforward = null, DType dtype = DType.Float32, Generator? generator = null)
    {
        if (vocabSize <= 0 || contextLength <= 0 || dModel <= 0 || numLayers <= 0 || numHeads <= 0)
            throw new ArgumentOutOfRangeException(nameof(vocabSize),
                $"TransformerLanguageModel: sizes must be positive; got vocabSize {vocabSize}, contextLength {contextLength}, dModel {dModel}, numLayers {numLayers}, numHeads {numHeads}.");
        if (dModel % numHeads != 0)
            throw new ArgumentException($"TransformerLanguageModel: dModel {dModel} does not divide into {numHeads} heads.", nameof(numHeads));
        VocabSize = vocabSize;
        ContextLength = contextLength;
        DModel = dModel;
        NumHeads = numHeads;
        TokenEmbedding = new Embedding(vocabSize, dModel, dtype: dtype, generator: generator);
        PositionEmbedding = new Embedding(contextLength, dModel, dtype: dtype, generator: generator);
        Init.Normal(TokenEmbedding.Weight, std: 0.02, generator: generator);
        Init.Normal(PositionEmbedding.Weight, std: 0.02, generator: generator);
        double residualStd = 0.02 / Math.Sqrt(2 * numLayers);
        for (int i = 0; i < numLayers; i++) Blocks.Add(new TransformerBlock(dModel, numHeads, dimFeedforward ?? 4 * dModel, residualStd, dtype, generator));
        FinalNorm = new LayerNorm(dModel, dtype: dtype);
    }

    public int VocabSize { get; }

    /// <summary>Longest sequence the model sees at once (the rows of <see cref="PositionEmbedding"/>).</summary>
    public int ContextLength { get; }

    public int DModel { get; }

    public int NumHeads { get; }

    /// <summary>[vocab, dModel]: the input embedding, and (transposed) the output head.</summary>
    public Embedding TokenEmbedding { get; }

    /// <summary>[contextLength, dModel]: one learned vector per position.</summary>
    public Embedding PositionEmbedding { get; }

    public List<TransformerBlock> Blocks { get; } = [];

    public LayerNorm FinalNorm { get; }

    public Tensor Logits(Tensor tokens) => Forward(tokens);

    /// <summary>
    /// The attention weights of every block for <paramref name="tokens"/> ([batch, time], time ≤ <see cref="ContextLength"/>):
    /// one [batch, heads, time, time] tensor per block, row t being how much position t attends to each position ≤ t.
    /// </summary>
    public IReadOnlyList<Tensor> AttentionMaps(Tensor tokens)
    {
        CheckTokens(tokens, 0);
        using var noGrad = Autograd.NoGrad();
        var maps = new List<Tensor>(Blocks.Count);
        var x = Embed(tokens, 0);
        foreach (var block in Blocks)
        {
            maps.Add(block.Attention.Weights(block.Norm1.Forward(x)));
            x = block.Forward(x, null).Output;
        }
        return maps;
    }

    public ITokenDecoder StartDecoding(int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"TransformerLanguageModel: batchSize must be positive; got {batchSize}.");
        return new Decoder(this, batchSize);
    }

    protected override Tensor ForwardCore(Tensor input)
    {
        CheckTokens(input, 0);
        var x = Embed(input, 0);
        foreach (var block in Blocks) x = block.Forward(x, null).Output;
        return Head(x);
    }

    protected override string ExtraDescription => $"vocabSize: {VocabSize}, contextLength: {ContextLength}, dModel: {DModel}, heads: {NumHeads}";

    /// <summary>Token plus position embeddings of tokens that start at position <paramref name="offset"/>.</summary>
    private Tensor Embed(Tensor tokens, int offset)
    {
        var positions = Tensor.Arange(offset, offset + tokens.Size(1), dtype: DType.Int64);
        return TokenEmbedding.Forward(tokens) + PositionEmbedding.Forward(positions);
    }

    /// <summary>The tied head: final LayerNorm, then the dot product with every token's embedding.</summary>
    private Tensor Head(Tensor x) => FinalNorm.Forward(x).MatMul(TokenEmbedding.Weight.Transpose(0, 1));

    private void CheckTokens(Tensor tokens, int offset)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Rank != 2 || tokens.DType != DType.Int64 || tokens.Size(1) == 0)
            throw new ShapeMismatchException("TransformerLanguageModel", $"needs Int64 tokens [batch, time] with time ≥ 1; got {tokens.DType.DisplayName()} {tokens.Shape}");
        if (offset + tokens.Size(1) > ContextLength)
            throw new ShapeMismatchException("TransformerLanguageModel",
                $"positions {offset}..{offset + tokens.Size(1) - 1} pass the context length {ContextLength} (tokens {tokens.Shape})");
    }

    /// <summary>Keeps each block's keys and values for the tokens seen so far, and the tokens themselves for the sliding window.</summary>
    private sealed class Decoder(TransformerLanguageModel model, int batchSize) : ITokenDecoder
    {
        private readonly KeyValueCache?[] _caches = new KeyValueCache?[model.Blocks.Count];
        private Tensor? _tokens;

        public Tensor Next(Tensor tokens)
        {
            ArgumentNullException.ThrowIfNull(tokens);
            if (tokens.Rank != 2 || tokens.Size(0) != batchSize || tokens.DType != DType.Int64 || tokens.Size(1) == 0)
                throw new ShapeMismatchException("TransformerLanguageModel decoder", $"was started for Int64 tokens [{batchSize}, t ≥ 1]; got {tokens.DType.DisplayName()} {tokens.Shape}");
            int cached = _tokens?.Size(1) ?? 0;
            _tokens = _tokens is null ? tokens : Tensor.Cat([_tokens, tokens], 1);
            if (cached + tokens.Size(1) > model.ContextLength)
            {
                // The position table ends here: restart from the most recent tokens, leaving room for the next one.
                int keep = Math.Min(_tokens.Size(1), model.ContextLength - 1);
                _tokens = _tokens.Narrow(1, _tokens.Size(1) - keep, keep).Contiguous();
                Array.Clear(_caches);
                return Run(_tokens, 0);
            }
            return Run(tokens, cached);
        }

        private Tensor Run(Tensor tokens, int offset)
        {
            var x = model.Embed(tokens, offset);
            for (int i = 0; i < model.Blocks.Count; i++)
                (x, _caches[i]) = model.Blocks[i].Forward(x, _caches[i]);
            return model.Head(x.Select(1, x.Size(1) - 1));
        }
    }
}

/// <summary>The keys and values [batch, heads, positions, headDim] one attention layer has computed so far.</summary>
public sealed record KeyValueCache(Tensor Keys, Tensor Values)
{
    /// <summary>How many positions are cached.</summary>
    public int Length => Keys.Size(2);
}

/// <summary>One pre-norm GPT block: x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x)) with a GELU MLP.</summary>
public sealed class TransformerBlock : Module
{
    internal TransformerBlock(int dModel, int numHeads, int dimFeedforward, double residualStd, DType dtype, Generator? generator)
    {
        Norm1 = new LayerNorm(dModel, dtype: dtype);
        Attention = new CausalSelfAttention(dModel, numHeads, residualStd, dtype, generator);
        Norm2 = new LayerNorm(dModel, dtype: dtype);
        Fc1 = new Linear(dModel, dimFeedforward, dtype: dtype, generator: generator);
        Fc2 = new Linear(dimFeedforward, dModel, dtype: dtype, generator: generator);
        Reinitialize(Fc1, 0.02, generator);
        Reinitialize(Fc2, residualStd, generator);
    }

    /// <summary>GPT-2's initialisation of a Linear: weight N(0, std²), bias zero.</summary>
    internal static void Reinitialize(Linear layer, double std, Generator? generator)
    {
        Init.Normal(layer.Weight, std: std, generator: generator);
        Init.Zeros(layer.Bias!);
    }

    public LayerNorm Norm1 { get; }

    public CausalSelfAttention Attention { get; }

    public LayerNorm Norm2 { get; }

    /// <summary>MLP expansion (dModel → dimFeedforward), followed by GELU.</summary>
    public Linear Fc1 { get; }

    /// <summary>MLP projection back to the residual stream.</summary>
    public Linear Fc2 { get; }

    /// <summary>x [batch, time, dModel] continuing after <paramref name="cache"/> (none: from position 0) → the block's output and the extended cache.</summary>
    public (Tensor Output, KeyValueCache Cache) Forward(Tensor x, KeyValueCache? cache)
    {
        var (attended, extended) = Attention.Forward(Norm1.Forward(x), cache);
        x = x + attended;
        x = x + Fc2.Forward(Fc1.Forward(Norm2.Forward(x)).Gelu());
        return (x, extended);
    }
}

/// <summary>
/// Multi-head causal self-attention: one Linear makes queries, keys and values (<c>qkv</c>, dModel → 3·dModel),
/// <see cref="Functional.ScaledDotProductAttention"/> (one fused op) mixes each head, and <c>proj</c> maps the heads back.
/// </summary>
public sealed class CausalSelfAttention : Module
{
    internal CausalSelfAttention(int dModel, int numHeads, double residualStd, DType dtype, Generator? generator)
    {
        NumHeads = numHeads;
        HeadDim = dModel / numHeads;
        Qkv = new Linear(dModel, 3 * dModel, dtype: dtype, generator: generator);
        Proj = new Linear(dModel, dModel, dtype: dtype, generator: generator);
        TransformerBlock.Reinitialize(Qkv, 0.02, generator);
        TransformerBlock.Reinitialize(Proj, residualStd, generator);
    }

    public int NumHeads { get; }

    public int HeadDim { get; }

    public Linear Qkv { get; }

    public Linear Proj { get; }

    /// <summary>
    /// x [batch, time, dModel], the positions after those in <paramref name="cache"/> → output [batch, time, dModel]
    /// and the cache extended by this call's keys and values.
    /// </summary>
    public (Tensor Output, KeyValueCache Cache) Forward(Tensor x, KeyValueCache? cache)
    {
        var (q, k, v) = Project(x);
        if (cache is not null)
        {
            k = Tensor.Cat([cache.Keys, k], 2);
            v = Tensor.Cat([cache.Values, v], 2);
        }
        int time = x.Size(1), past = cache?.Length ?? 0;
        // Query i sits at position past + i and sees keys 0..past + i. With no past that is SDPA's (top-left) causal
        // mask; a single new token sees everything cached; a chunk after a cache needs the shifted mask spelled out.
        Tensor attended = past == 0
            ? Functional.ScaledDotProductAttention(q, k, v, isCausal: time > 1)
            : time == 1
                ? Functional.ScaledDotProductAttention(q, k, v)
                : Functional.ScaledDotProductAttention(q, k, v, attnMask: CausalMask(time, past));
        var merged = attended.Transpose(1, 2).Reshape(x.Size(0), time, NumHeads * HeadDim);
        return (Proj.Forward(merged), new KeyValueCache(k, v));
    }

    /// <summary>softmax(Q·Kᵀ/√d) under the causal mask for x [batch, time, dModel] from position 0: [batch, heads, time, time].</summary>
    public Tensor Weights(Tensor x)
    {
        var (q, k, _) = Project(x);
        int time = x.Size(1);
        var scores = q.MatMul(k.Transpose(2, 3)) * (1 / Math.Sqrt(HeadDim));
        return scores.MaskedFill(CausalMask(time, 0).Eq(0), double.NegativeInfinity).Softmax(-1);
    }

    /// <summary>Bool [time, past + time]: true where query i (at position past + i) may attend key j, i.e. j ≤ past + i.</summary>
    private static Tensor CausalMask(int time, int past)
    {
        var keys = Tensor.Arange(past + time, DType.Int64);
        var queries = Tensor.Arange(past, past + time, dtype: DType.Int64).Unsqueeze(1);
        return keys.Le(queries);
    }

    /// <summary>Queries, keys and values, each [batch, heads, time, headDim].</summary>
    private (Tensor Q, Tensor K, Tensor V) Project(Tensor x)
    {
        if (x.Rank != 3) throw new ShapeMismatchException("CausalSelfAttention", $"needs x [batch, time, dModel]; got {x.Shape}");
        int batch = x.Size(0), time = x.Size(1);
        var qkv = Qkv.Forward(x).Reshape(batch, time, 3, NumHeads, HeadDim).Permute(2, 0, 3, 1, 4);
        return (qkv.Select(0, 0), qkv.Select(0, 1), qkv.Select(0, 2));
    }
}
