namespace Backprop.Nn;

/// <summary>
/// A character-level (or any token-level) LSTM language model: Embedding → <see cref="Nn.Lstm"/> (batch first) →
/// Linear to one logit per token. Its decoder carries the LSTM's state, so generating a token costs one step.
/// Parameter names: <c>embedding.weight</c>, <c>lstm.weight_ih_l0</c>, …, <c>head.weight</c>, <c>head.bias</c>.
/// </summary>
public sealed class LstmLanguageModel : Module<Tensor, Tensor>, ILanguageModel
{
    /// <param name="vocabSize">Number of token ids.</param>
    /// <param name="embeddingDim">Width of each token's embedding (the LSTM's input size).</param>
    /// <param name="hiddenSize">The LSTM's hidden size.</param>
    /// <param name="numLayers">Stacked LSTM layers.</param>
    /// <param name="dropout">Dropout between LSTM layers (PyTorch's; only with two or more layers, only in training).</param>
    /// <param name="generator">Draws the initial weights; <see cref="Generator.Default"/> when null.</param>
    public LstmLanguageModel(int vocabSize, int embeddingDim = 64, int hiddenSize = 256, int numLayers = 1, double dropout = 0,
        DType dtype = DType.Float32, Generator? generator = null)
    {
        if (vocabSize <= 0) throw new ArgumentOutOfRangeException(nameof(vocabSize), $"LstmLanguageModel: vocabSize must be positive; got {vocabSize}.");
        VocabSize = vocabSize;
        Embedding = new Embedding(vocabSize, embeddingDim, dtype: dtype, generator: generator);
        Lstm = new Lstm(embeddingDim, hiddenSize, numLayers, batchFirst: true, dropout: dropout, dtype: dtype, generator: generator);
        Head = new Linear(hiddenSize, vocabSize, dtype: dtype, generator: generator);
    }

    public int VocabSize { get; }

    public Embedding Embedding { get; }

    public Lstm Lstm { get; }

    /// <summary>Hidden state → logits.</summary>
    public Linear Head { get; }

    /// <summary>
    /// Int64 tokens [batch, time] from <paramref name="state"/> (zeros when null) → logits [batch, time, vocab] and
    /// the state after the last token (for carrying across chunks of a long text; detach it to cut the graph).
    /// </summary>
    public (Tensor Logits, RecurrentState State) Forward(Tensor tokens, RecurrentState? state)
    {
        CheckTokens(tokens);
        var (output, final) = Lstm.Forward(Embedding.Forward(tokens), state);
        return (Head.Forward(output), final);
    }

    public Tensor Logits(Tensor tokens) => Forward(tokens);

    public ITokenDecoder StartDecoding(int batchSize)
    {
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"LstmLanguageModel: batchSize must be positive; got {batchSize}.");
        return new Decoder(this, batchSize);
    }

    protected override Tensor ForwardCore(Tensor input) => Forward(input, null).Logits;

    private void CheckTokens(Tensor tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Rank != 2 || tokens.DType != DType.Int64)
            throw new ShapeMismatchException("LstmLanguageModel", $"needs Int64 tokens [batch, time]; got {tokens.DType.DisplayName()} {tokens.Shape}");
    }

    protected override string ExtraDescription => $"vocabSize: {VocabSize}";

    /// <summary>Feeds tokens through the LSTM from the state the previous call left.</summary>
    private sealed class Decoder(LstmLanguageModel model, int batchSize) : ITokenDecoder
    {
        private RecurrentState? _state;

        public Tensor Next(Tensor tokens)
        {
            model.CheckTokens(tokens);
            if (tokens.Size(0) != batchSize || tokens.Size(1) == 0)
                throw new ShapeMismatchException("LstmLanguageModel decoder", $"was started for batch {batchSize}; got tokens {tokens.Shape}");
            var (logits, state) = model.Forward(tokens, _state);
            _state = state;
            return logits.Select(1, tokens.Size(1) - 1);
        }
    }
}
