using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class LanguageModelTests
{
    private static Tensor Tokens(int batch, int time, int vocab, ulong seed)
    {
        var g = new Generator(seed);
        return Tensor.FromArray(Enumerable.Range(0, batch * time).Select(_ => g.NextInt64(vocab)).ToArray(), batch, time);
    }

    private static double MaxRelativeDifference(Tensor expected, Tensor actual)
    {
        var e = expected.ToArray<double>();
        var a = actual.ToArray<double>();
        Assert.Equal(e.Length, a.Length);
        double worst = 0, scale = e.Max(Math.Abs);
        for (int i = 0; i < e.Length; i++) worst = Math.Max(worst, Math.Abs(e[i] - a[i]) / scale);
        return worst;
    }

    /// <summary>Feeds the sequence to a fresh decoder in the given chunk lengths and checks each chunk's last logits against the uncached forward.</summary>
    private static void CachedMatchesUncached(ILanguageModel model, Tensor tokens, int[] chunks, double bound)
    {
        Tensor full;
        using (Autograd.NoGrad()) full = model.Logits(tokens);
        var decoder = model.StartDecoding(tokens.Size(0));
        int position = 0;
        foreach (int chunk in chunks)
        {
            Tensor next;
            using (Autograd.NoGrad()) next = decoder.Next(tokens.Narrow(1, position, chunk).Contiguous());
            position += chunk;
            double difference = MaxRelativeDifference(full.Select(1, position - 1), next);
            Assert.True(difference <= bound, $"after {position} tokens the cached logits differ from the uncached ones by {difference:E2} (relative)");
        }
    }

    [Fact]
    public void Transformer_kv_cache_gives_the_logits_of_the_uncached_forward_in_float64()
    {
        var model = new TransformerLanguageModel(vocabSize: 11, contextLength: 16, dModel: 12, numLayers: 2, numHeads: 3, dtype: DType.Float64, generator: new Generator(3));
        var tokens = Tokens(2, 14, 11, seed: 5);
        // One token at a time (the generation path), and chunks after a cache (the shifted causal mask).
        CachedMatchesUncached(model, tokens, Enumerable.Repeat(1, 14).ToArray(), 1e-12);
        CachedMatchesUncached(model, tokens, [5, 1, 4, 3, 1], 1e-12);
    }

    [Fact]
    public void Transformer_logits_at_a_position_do_not_depend_on_later_tokens()
    {
        var model = new TransformerLanguageModel(vocabSize: 7, contextLength: 8, dModel: 8, numLayers: 1, numHeads: 2, dtype: DType.Float64, generator: new Generator(1));
        var a = Tokens(1, 8, 7, seed: 2).ToArray<long>();
        var b = (long[])a.Clone();
        b[5] = (b[5] + 1) % 7;
        var la = model.Logits(Tensor.FromArray(a, 1, 8));
        var lb = model.Logits(Tensor.FromArray(b, 1, 8));
        Assert.Equal(la.Narrow(1, 0, 5).ToArray<double>(), lb.Narrow(1, 0, 5).ToArray<double>());
        Assert.NotEqual(la.Select(1, 5).ToArray<double>(), lb.Select(1, 5).ToArray<double>());
    }

    [Fact]
    public void Transformer_head_is_tied_to_the_token_embedding_as_one_parameter()
    {
        var model = new TransformerLanguageModel(vocabSize: 9, contextLength: 6, dModel: 8, numLayers: 1, numHeads: 2, dtype: DType.Float64, generator: new Generator(2));
        var embedding = model.TokenEmbedding.Weight;
        var named = model.NamedParameters().ToList();
        Assert.Single(named, p => ReferenceEquals(p.Parameter, embedding));
        Assert.DoesNotContain(named, p => p.Name.Contains("head", StringComparison.Ordinal));
        Assert.Equal(named.Count, named.Select(p => p.Parameter).Distinct(ReferenceEqualityComparer.Instance).Count());
        Assert.DoesNotContain(model.StateDict().Keys, k => k.Contains("head", StringComparison.Ordinal));

        // The logits are h·Eᵀ: changing E changes the output side too, and E's gradient sums both uses.
        var tokens = Tokens(1, 6, 9, seed: 4);
        var logits = model.Logits(tokens);
        var target = Tokens(1, 6, 9, seed: 8);
        Functional.CrossEntropy(logits.Reshape(-1, 9), target.Reshape(-1)).Backward();
        var full = embedding.Grad!.ToArray<double>();
        Assert.All(full, v => Assert.True(double.IsFinite(v)));
        // Every row gets gradient from the head (each token's logit), even tokens the input never used.
        var used = tokens.ToArray<long>().ToHashSet();
        int unused = Enumerable.Range(0, 9).First(i => !used.Contains(i));
        Assert.Contains(full.Skip(unused * 8).Take(8), v => v != 0);
    }

    [Fact]
    public void Transformer_decoder_slides_past_the_context_length()
    {
        var model = new TransformerLanguageModel(vocabSize: 5, contextLength: 4, dModel: 4, numLayers: 1, numHeads: 1, dtype: DType.Float64, generator: new Generator(0));
        var tokens = Tokens(1, 7, 5, seed: 1);
        var decoder = model.StartDecoding(1);
        Tensor last = decoder.Next(tokens.Narrow(1, 0, 4).Contiguous());
        for (int t = 4; t < 7; t++) last = decoder.Next(tokens.Narrow(1, t, 1).Contiguous());
        // At the fifth token the window restarts from the last contextLength − 1 = 3 tokens (positions 2..4), the sixth
        // extends it to 4, the seventh restarts again from positions 4..6: the last logits are those of a fresh run on them.
        Tensor expected;
        using (Autograd.NoGrad()) expected = model.Logits(tokens.Narrow(1, 4, 3).Contiguous()).Select(1, 2);
        Assert.True(MaxRelativeDifference(expected, last) <= 1e-12, "the sliding window does not restart from the most recent tokens");
        Assert.Throws<ShapeMismatchException>(() => model.Logits(Tokens(1, 5, 5, seed: 0)));
    }

    [Fact]
    public void Lstm_decoder_carries_the_state_and_matches_the_full_forward()
    {
        var model = new LstmLanguageModel(vocabSize: 10, embeddingDim: 6, hiddenSize: 8, numLayers: 2, dtype: DType.Float64, generator: new Generator(4));
        var tokens = Tokens(3, 9, 10, seed: 6);
        CachedMatchesUncached(model, tokens, Enumerable.Repeat(1, 9).ToArray(), 1e-12);
        CachedMatchesUncached(model, tokens, [4, 2, 3], 1e-12);
        Assert.Equal(["embedding.weight", "lstm.weight_ih_l0"], model.NamedParameters().Select(p => p.Name).Take(2));
    }

    [Fact]
    public void Generation_is_repeatable_and_a_tiny_model_learns_a_repeating_text()
    {
        // "abcabc…": after a few dozen Adam steps greedy decoding continues the cycle.
        var model = new TransformerLanguageModel(vocabSize: 3, contextLength: 12, dModel: 16, numLayers: 1, numHeads: 2, generator: new Generator(0));
        var cycle = Enumerable.Range(0, 13).Select(i => (long)(i % 3)).ToArray();
        var inputs = Tensor.FromArray(cycle[..12], 1, 12);
        var targets = Tensor.FromArray(cycle[1..], 1, 12);
        var optimizer = new Backprop.Optim.Adam(model.Parameters(), learningRate: 0.02);
        for (int step = 0; step < 60; step++)
        {
            optimizer.ZeroGrad();
            Functional.CrossEntropy(model.Logits(inputs).Reshape(-1, 3), targets.Reshape(-1)).Backward();
            optimizer.Step();
        }
        var prompt = Tensor.FromArray(new long[] { 0, 1 }, 1, 2);
        Assert.Equal([2L, 0L, 1L, 2L, 0L, 1L], TextSampling.Generate(model, prompt, 6, temperature: 0).ToArray<long>());
        var first = TextSampling.Generate(model, prompt, 8, temperature: 1.5, generator: new Generator(9)).ToArray<long>();
        Assert.Equal(first, TextSampling.Generate(model, prompt, 8, temperature: 1.5, generator: new Generator(9)).ToArray<long>());
    }
}
