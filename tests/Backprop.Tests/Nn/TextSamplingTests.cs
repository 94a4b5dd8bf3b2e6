using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class TextSamplingTests
{
    [Fact]
    public void TopKLogits_keeps_the_k_largest_of_each_row()
    {
        var logits = Tensor.FromArray(new[] { 1.0, 5.0, 3.0, 2.0, 0.0, -1.0, 4.0, 4.5 }, 2, 4);
        var kept = TextSampling.TopKLogits(logits, 2).ToArray<double>();
        double inf = double.NegativeInfinity;
        Assert.Equal([inf, 5.0, 3.0, inf, inf, inf, 4.0, 4.5], kept);
        Assert.Throws<ArgumentOutOfRangeException>(() => TextSampling.TopKLogits(logits, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextSampling.TopKLogits(logits, 0));
    }

    [Fact]
    public void Temperature_zero_is_greedy_and_top_k_one_is_greedy_at_any_temperature()
    {
        var logits = Tensor.FromArray(new[] { 0.1f, 2f, -1f, 3f, 0f, 1f }, 2, 3);
        Assert.Equal([1L, 0L], TextSampling.Sample(logits, temperature: 0).ToArray<long>());
        var generator = new Generator(1);
        for (int i = 0; i < 20; i++) Assert.Equal([1L, 0L], TextSampling.Sample(logits, temperature: 5, topK: 1, generator).ToArray<long>());
    }

    [Fact]
    public void Sampling_frequencies_follow_softmax_of_logits_over_temperature()
    {
        // p ∝ exp(logit / T); with T = 2 and logits ln(1), ln(4), ln(16) that is 1 : 2 : 4.
        var logits = Tensor.FromArray(new[] { 0.0, Math.Log(4), Math.Log(16) }, 1, 3);
        var generator = new Generator(7);
        var counts = new int[3];
        const int draws = 7000;
        for (int i = 0; i < draws; i++) counts[TextSampling.Sample(logits, temperature: 2, generator: generator).ToArray<long>()[0]]++;
        double[] expected = [1 / 7.0, 2 / 7.0, 4 / 7.0];
        for (int c = 0; c < 3; c++)
        {
            // Five binomial standard deviations: a wrong temperature (T = 1 gives 1 : 4 : 16) is far outside it.
            double sd = Math.Sqrt(draws * expected[c] * (1 - expected[c]));
            Assert.True(Math.Abs(counts[c] - draws * expected[c]) <= 5 * sd, $"category {c}: {counts[c]} of {draws}, expected about {draws * expected[c]:F0}");
        }
    }

    [Fact]
    public void Top_k_sampling_never_draws_outside_the_k_largest()
    {
        var logits = Tensor.FromArray(new[] { 3.0, 2.9, 0.0, 2.8, -5.0 }, 1, 5);
        var generator = new Generator(3);
        var drawn = new HashSet<long>();
        for (int i = 0; i < 300; i++) drawn.Add(TextSampling.Sample(logits, temperature: 10, topK: 3, generator).ToArray<long>()[0]);
        Assert.Equal([0L, 1L, 3L], drawn.Order());
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        var logits = Tensor.Zeros(2, 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => TextSampling.Sample(logits, temperature: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => TextSampling.Sample(logits, temperature: double.NaN));
        Assert.Throws<ShapeMismatchException>(() => TextSampling.Sample(Tensor.Zeros(3)));
    }
}
