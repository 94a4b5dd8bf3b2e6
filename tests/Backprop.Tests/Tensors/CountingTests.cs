namespace Backprop.Tests.Tensors;

/// <summary>Unique, Bincount and Histc against hand-worked PyTorch results; Multinomial and Bernoulli against the seeded generator.</summary>
public class CountingTests
{
    private const double NaN = double.NaN;

    [Fact]
    public void Unique_sorts_counts_and_inverts()
    {
        var x = Tensor.FromArray(new double[,] { { 3, 1, 2 }, { 1, 3, -1 } });
        var (values, inverse, counts) = x.Unique(returnInverse: true, returnCounts: true);
        Assert.Equal([-1.0, 1, 2, 3], values.ToArray<double>());
        Assert.Equal(new Shape(2, 3), inverse!.Shape);
        Assert.Equal([3L, 1, 2, 1, 3, 0], inverse.ToArray<long>());
        Assert.Equal([1L, 2, 1, 2], counts!.ToArray<long>());
        // Unsorted: in order of first appearance.
        var (firstSeen, firstInverse, firstCounts) = x.Unique(sorted: false, returnInverse: true, returnCounts: true);
        Assert.Equal([3.0, 1, 2, -1], firstSeen.ToArray<double>());
        Assert.Equal([0L, 1, 2, 1, 0, 3], firstInverse!.ToArray<long>());
        Assert.Equal([2L, 2, 1, 1], firstCounts!.ToArray<long>());
        // The transposed view has the same elements; its inverse follows its own layout.
        Assert.Equal([3L, 1, 1, 3, 2, 0], x.T.Unique(returnInverse: true).Inverse!.ToArray<long>());
        Assert.Null(x.Unique().Inverse);
        Assert.Null(x.Unique().Counts);
    }

    [Fact]
    public void Unique_puts_each_NaN_last_on_its_own_and_keeps_int64_exact()
    {
        var (values, _, counts) = Tensor.FromArray(new[] { NaN, 2, double.NegativeInfinity, NaN, 2 }).Unique(returnCounts: true);
        var v = values.ToArray<double>();
        Assert.Equal(4, v.Length);
        Assert.Equal(double.NegativeInfinity, v[0]);
        Assert.Equal(2.0, v[1]);
        Assert.True(double.IsNaN(v[2]) && double.IsNaN(v[3]));
        Assert.Equal([1L, 2, 1, 1], counts!.ToArray<long>());
        var big = Tensor.FromArray(new[] { long.MaxValue, long.MaxValue - 1, long.MaxValue });
        Assert.Equal([long.MaxValue - 1, long.MaxValue], big.Unique().Values.ToArray<long>());
        Assert.Equal(DType.Float32, Tensor.FromArray(new[] { 1f, 1f }).Unique().Values.DType);
        Assert.Equal(new Shape(0), Tensor.Zeros(new Shape(0), DType.Float64).Unique(returnInverse: true).Values.Shape);
    }

    [Fact]
    public void Unique_along_a_dim_compares_whole_slices()
    {
        var x = Tensor.FromArray(new long[,] { { 1, 0, 1 }, { 2, 5, 2 } });
        var (columns, inverse, counts) = x.Unique(returnInverse: true, returnCounts: true, dim: 1);
        Assert.Equal(new Shape(2, 2), columns.Shape);
        Assert.Equal([0L, 1, 5, 2], columns.ToArray<long>());
        Assert.Equal([1L, 0, 1], inverse!.ToArray<long>());
        Assert.Equal([1L, 2], counts!.ToArray<long>());
        var rows = Tensor.FromArray(new double[,] { { 2, 1 }, { 1, 9 }, { 2, 1 } }).Unique(dim: 0).Values;
        Assert.Equal([1.0, 9, 2, 1], rows.ToArray<double>());
    }

    [Fact]
    public void Bincount_counts_or_sums_weights_with_a_minimum_length()
    {
        var x = Tensor.FromArray(new long[] { 1, 3, 1, 0 });
        Assert.Equal([1L, 2, 0, 1], x.Bincount().ToArray<long>());
        Assert.Equal([1L, 2, 0, 1, 0, 0], x.Bincount(minlength: 6).ToArray<long>());
        var weights = Tensor.FromArray(new[] { 0.5f, 2f, 0.25f, -1f });
        var weighted = x.Bincount(weights);
        Assert.Equal(DType.Float32, weighted.DType);
        Assert.Equal([-1f, 0.75f, 0, 2f], weighted.ToArray<float>());
        Assert.Equal(DType.Float64, x.Bincount(Tensor.FromArray(new long[] { 1, 1, 1, 1 })).DType);
        Assert.Equal([0L, 0], Tensor.FromArray(Array.Empty<long>(), 0).Bincount(minlength: 2).ToArray<long>());
        Assert.Equal(new Shape(0), Tensor.FromArray(Array.Empty<long>(), 0).Bincount().Shape);
        Assert.Equal([0L, 2], x.Slice(0, 0, 4, 2).Bincount().ToArray<long>());
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new long[] { -1 }).Bincount());
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new[] { 1.0 }).Bincount());
        Assert.Throws<ShapeMismatchException>(() => x.Bincount(Tensor.Ones(3)));
    }

    [Fact]
    public void Histc_includes_the_max_edge_and_ignores_what_is_outside()
    {
        var x = Tensor.FromArray(new[] { 0.0, 1, 1.5, 2, 3.999, 4, 4.5, -0.1, NaN });
        // Four bins over [0, 4]: [0,1) [1,2) [2,3) [3,4], the last one closed.
        Assert.Equal([1.0, 2, 1, 2], x.Histc(4, 0, 4).ToArray<double>());
        // min = max = 0 means the data's range; with NaN in the data that range is not finite.
        Assert.Throws<ArgumentException>(() => x.Histc(4));
        var finite = Tensor.FromArray(new[] { 1f, 2f, 2f, 5f });
        var auto = finite.Histc(4);
        Assert.Equal(DType.Float32, auto.DType);
        Assert.Equal([1f, 2, 0, 1], auto.ToArray<float>());
        // A constant input widens to [c − 1, c + 1].
        Assert.Equal([0.0, 0, 3, 0], Tensor.FromArray(new[] { 2.0, 2, 2 }).Histc(4, 2, 2).ToArray<double>());
        Assert.Equal([0.0, 0, 3, 0], Tensor.FromArray(new[] { 2.0, 2, 2 }).Histc(4).ToArray<double>());
        Assert.Equal([0.0, 0], Tensor.Zeros(new Shape(0), DType.Float64).Histc(2).ToArray<double>());
        Assert.Equal([1.0, 1], Tensor.FromArray(new double[,] { { 0, 9 }, { 1, 9 } }).T.Narrow(0, 0, 1).Histc(2, 0, 1).ToArray<double>());
        Assert.Throws<ArgumentException>(() => x.Histc(4, 3, 1));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new long[] { 1 }).Histc());
    }

    [Fact]
    public void Multinomial_repeats_with_the_seed_and_follows_the_weights()
    {
        var weights = Tensor.FromArray(new double[,] { { 1, 2, 7, 0 }, { 0, 0, 1, 0 } });
        var a = weights.Multinomial(5000, replacement: true, generator: new Generator(42));
        var b = weights.Multinomial(5000, replacement: true, generator: new Generator(42));
        Assert.Equal(new Shape(2, 5000), a.Shape);
        Assert.Equal(DType.Int64, a.DType);
        Assert.Equal(a.ToArray<long>(), b.ToArray<long>());
        var draws = a.ToArray<long>();
        var first = draws[..5000];
        Assert.DoesNotContain(3L, first);
        for (int c = 0; c < 3; c++)
        {
            double share = first.Count(v => v == c) / 5000.0, expected = new[] { 0.1, 0.2, 0.7 }[c];
            Assert.True(Math.Abs(share - expected) <= 0.03, $"category {c}: share {share}, expected {expected}");
        }
        Assert.All(draws[5000..], v => Assert.Equal(2L, v));
        // Draw by draw, the generator's uniform numbers pick the category whose cumulative share holds them.
        var generator = new Generator(9);
        var expectedDraws = Enumerable.Range(0, 4).Select(_ => (generator.NextDouble() * 10) switch { < 1 => 0L, < 3 => 1L, _ => 2L }).ToArray();
        Assert.Equal(expectedDraws, Tensor.FromArray(new[] { 1.0, 2, 7 }).Multinomial(4, true, new Generator(9)).ToArray<long>());
    }

    [Fact]
    public void Multinomial_without_replacement_never_repeats_a_category()
    {
        var weights = Tensor.FromArray(new[] { 5.0, 0, 1, 1, 3 });
        for (ulong seed = 0; seed < 20; seed++)
        {
            var draws = weights.Multinomial(4, generator: new Generator(seed)).ToArray<long>();
            Assert.Equal(4, draws.Distinct().Count());
            Assert.DoesNotContain(1L, draws);
        }
        Assert.Throws<ArgumentException>(() => weights.Multinomial(5));
        Assert.Throws<ArgumentException>(() => weights.Multinomial(6, replacement: false));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new[] { 1.0, -1 }).Multinomial(1));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new[] { 0.0, 0 }).Multinomial(1, true));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new[] { 1.0, NaN }).Multinomial(1, true));
    }

    [Fact]
    public void Bernoulli_draws_one_uniform_number_per_element()
    {
        var p = Tensor.FromArray(new double[,] { { 0, 1, 0.5 }, { 0.25, 0.75, 0.9 } });
        var generator = new Generator(5);
        var expected = p.ToArray<double>().Select(q => generator.NextDouble() < q ? 1.0 : 0).ToArray();
        var draws = p.Bernoulli(new Generator(5));
        Assert.Equal(p.Shape, draws.Shape);
        Assert.Equal(expected, draws.ToArray<double>());
        Assert.Equal(0.0, draws.ToArray<double>()[0]);
        Assert.Equal(1.0, draws.ToArray<double>()[1]);
        // Non-contiguous probabilities are read in their logical order.
        Assert.Equal(p.T.Contiguous().Bernoulli(new Generator(8)).ToArray<double>(), p.T.Bernoulli(new Generator(8)).ToArray<double>());
        var coins = Tensor.Zeros(new Shape(10000), DType.Float32).Bernoulli(0.3, new Generator(1));
        Assert.Equal(DType.Float32, coins.DType);
        double mean = coins.ToArray<float>().Average(v => (double)v);
        Assert.True(Math.Abs(mean - 0.3) <= 0.02, $"mean {mean}");
        Assert.Equal(new Shape(0, 2), Tensor.Zeros(new Shape(0, 2), DType.Float64).Bernoulli().Shape);
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new[] { 1.5 }).Bernoulli());
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new[] { NaN }).Bernoulli());
        Assert.Throws<ArgumentException>(() => p.Bernoulli(-0.1));
    }
}
