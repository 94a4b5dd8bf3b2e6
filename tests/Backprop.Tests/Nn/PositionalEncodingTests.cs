using Backprop.Diagnostics;
using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class PositionalEncodingTests
{
    [Fact]
    public void Rotary_scores_depend_only_on_the_distance_between_positions()
    {
        var rope = new RotaryEmbedding(8);
        var g = new Generator(1);
        var q = Tensor.Randn(new Shape(1, 8), DType.Float64, g);
        var k = Tensor.Randn(new Shape(1, 8), DType.Float64, g);
        double Score(int qPos, int kPos) => rope.Apply(q, qPos).MatMul(rope.Apply(k, kPos).MT).Item();
        foreach (var (a, b) in new[] { (0, 3), (5, 8), (20, 23) })
            Assert.True(Math.Abs(Score(a, b) - Score(0, 3)) <= 1e-12, $"score({a}, {b}) = {Score(a, b)} vs score(0, 3) = {Score(0, 3)}");
        Assert.True(Math.Abs(Score(0, 3) - Score(0, 4)) > 1e-6, "different distances must give different scores");
        // A rotation keeps norms, and position 0 is the identity.
        var x = Tensor.Randn(new Shape(2, 5, 8), DType.Float64, g);
        var rotated = rope.Apply(x);
        Assert.True((rotated.Norm(2) - x.Norm(2)).Abs().Item() <= 1e-12);
        Assert.Equal(x.Select(1, 0).ToArray<double>(), rotated.Select(1, 0).ToArray<double>());
    }

    [Fact]
    public void Rotary_with_an_offset_equals_the_tail_of_the_whole_sequence()
    {
        var rope = new RotaryEmbedding(4, theta: 100);
        var x = Tensor.Randn(new Shape(3, 7, 4), DType.Float64, new Generator(2));
        var whole = rope.Apply(x).Narrow(1, 4, 3).ToArray<double>();
        var tail = rope.Apply(x.Narrow(1, 4, 3), positionOffset: 4).ToArray<double>();
        Assert.Equal(whole, tail);
        Assert.Throws<ShapeMismatchException>(() => rope.Apply(Tensor.Randn(2, 5)));
    }

    [Fact]
    public void Sinusoidal_encoding_has_the_papers_values_and_no_state()
    {
        var pe = new SinusoidalPositionalEncoding(4, maxLength: 10, dtype: DType.Float64);
        Assert.Empty(pe.StateDict());
        var added = pe.Forward(Tensor.Zeros(new Shape(3, 2, 4), DType.Float64));
        double[] expected = [Math.Sin(2), Math.Cos(2), Math.Sin(2 / 100.0), Math.Cos(2 / 100.0)];
        var row = added.Select(0, 2).Select(0, 1).ToArray<double>();
        for (int i = 0; i < 4; i++) Assert.True(Math.Abs(row[i] - expected[i]) <= 1e-15, $"PE[2, {i}] = {row[i]}, expected {expected[i]}");
        Assert.Equal(added.Select(1, 0).ToArray<double>(), added.Select(1, 1).ToArray<double>());
        Assert.Throws<ArgumentOutOfRangeException>(() => pe.Forward(Tensor.Zeros(new Shape(11, 4), DType.Float64)));
    }

    [Fact]
    public void Learned_embedding_is_a_weight_that_each_position_trains()
    {
        var pe = new LearnedPositionalEmbedding(6, 4, batchFirst: true, generator: new Generator(3));
        Assert.Equal(["weight"], pe.StateDict().Keys);
        var x = Tensor.Zeros(new Shape(2, 3, 4));
        pe.Forward(x).Sum().Backward();
        var grad = pe.Weight.Grad!.ToArray<float>();
        Assert.All(grad.Take(12), v => Assert.Equal(2f, v));
        Assert.All(grad.Skip(12), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Rotary_gradients_match_finite_differences()
    {
        var rope = new RotaryEmbedding(4);
        var testCase = new GradcheckCase("RotaryEmbedding", x => rope.Apply(x[0], 2), [2, 3, 4]);
        Assert.True(Gradcheck.Run(testCase).Passed);
        Assert.True(Gradgradcheck.Run(testCase).Passed);
    }
}
