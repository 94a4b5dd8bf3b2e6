namespace Backprop.Nn;

/// <summary>
/// Drawing tokens from a language model's logits: temperature, top-k filtering and multinomial sampling, and a
/// generation loop over an <see cref="ILanguageModel"/>'s decoder.
/// </summary>
public static class TextSampling
{
    /// <summary>
    /// The logits with every entry below the <paramref name="k"/>-th largest of its row set to −∞ (ties with the
    /// k-th value are kept), so sampling picks among the k most likely tokens. [.., vocab] in, same shape out.
    /// </summary>
    public static Tensor TopKLogits(Tensor logits, int k)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank == 0) throw new ShapeMismatchException("TopKLogits", $"needs logits [.., vocab]; got a scalar");
        int vocab = logits.Size(-1);
        if (k <= 0 || k > vocab)
            throw new ArgumentOutOfRangeException(nameof(k), $"TopKLogits: k must lie in 1..{vocab} (the vocabulary of logits {logits.Shape}); got {k}.");
        if (k == vocab) return logits;
        var (values, _) = logits.TopK(k, -1);
        var threshold = values.Narrow(-1, k - 1, 1);
        return logits.MaskedFill(logits.Lt(threshold), double.NegativeInfinity);
    }

    /// <summary>
    /// One token per row of <paramref name="logits"/> [batch, vocab] → Int64 [batch]: drawn from softmax(logits / T)
    /// after keeping the <paramref name="topK"/> largest logits (all when null); <paramref name="temperature"/> 0
    /// takes the most likely token (greedy decoding). Draws come from <paramref name="generator"/>
    /// (<see cref="Generator.Default"/> when null).
    /// </summary>
    public static Tensor Sample(Tensor logits, double temperature = 1.0, int? topK = null, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        if (logits.Rank != 2) throw new ShapeMismatchException("Sample", $"needs logits [batch, vocab]; got {logits.Shape}");
        if (!(temperature >= 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), $"Sample: temperature must be a finite number ≥ 0; got {temperature}.");
        using var noGrad = Autograd.NoGrad();
        var x = logits.To(DType.Float64);
        if (topK is { } k) x = TopKLogits(x, k);
        if (temperature == 0) return x.ArgMax(1);
        var probabilities = (x / temperature).Softmax(1);
        return probabilities.Multinomial(1, replacement: true, generator).Reshape(logits.Size(0));
    }

    /// <summary>
    /// Feeds <paramref name="prompt"/> (Int64 [batch, t], t ≥ 1) to a fresh decoder of <paramref name="model"/>, then
    /// samples <paramref name="length"/> tokens one at a time, each fed back in; returns the new tokens, Int64 [batch, length].
    /// </summary>
    public static Tensor Generate(ILanguageModel model, Tensor prompt, int length, double temperature = 1.0, int? topK = null, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompt);
        if (prompt.Rank != 2 || prompt.Size(1) == 0 || prompt.DType != DType.Int64)
            throw new ShapeMismatchException("Generate", $"needs an Int64 prompt [batch, t] with t ≥ 1; got {prompt.DType.DisplayName()} {prompt.Shape}");
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), $"Generate: length must be ≥ 0; got {length}.");
        using var noGrad = Autograd.NoGrad();
        var decoder = model.StartDecoding(prompt.Size(0));
        var logits = decoder.Next(prompt);
        var tokens = new List<Tensor>(length);
        for (int i = 0; i < length; i++)
        {
            var next = Sample(logits, temperature, topK, generator).Unsqueeze(1);
            tokens.Add(next);
            if (i + 1 < length) logits = decoder.Next(next);
        }
        return length == 0 ? Tensor.Zeros(new Shape([prompt.Size(0), 0]), DType.Int64) : Tensor.Cat(tokens, 1);
    }
}
