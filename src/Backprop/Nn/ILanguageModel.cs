namespace Backprop.Nn;

/// <summary>
/// A model of token sequences that predicts each next token: the contract <c>backprop train text</c> trains and
/// <c>backprop generate</c> samples from.
/// </summary>
public interface ILanguageModel
{
    /// <summary>The number of token ids (the size of the last dimension of the logits).</summary>
    int VocabSize { get; }

    /// <summary>
    /// Int64 tokens [batch, time] → logits [batch, time, vocab], where position t sees only tokens 0..t (teacher
    /// forcing: training and the uncached reference for decoding).
    /// </summary>
    Tensor Logits(Tensor tokens);

    /// <summary>A decoder that is fed tokens a few at a time and keeps what it needs of the context between calls.</summary>
    ITokenDecoder StartDecoding(int batchSize);
}

/// <summary>Incremental decoding: each call appends tokens to the context (an LSTM's state, a transformer's key-value cache).</summary>
public interface ITokenDecoder
{
    /// <summary>Int64 [batch, t] appended to the context → logits [batch, vocab] of its last position.</summary>
    Tensor Next(Tensor tokens);
}
