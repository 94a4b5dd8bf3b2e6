using Backprop.Nn;

namespace Backprop.Tests.Tensors;

/// <summary>
/// Float32 reductions accumulate in float64 in one fixed order (docs/architecture.md, Note [Accurate reductions]):
/// accurate at sizes where float32 accumulation drifts, with PyTorch's edge values, and bit-identical to a scalar
/// model of that order whatever the SIMD width.
/// </summary>
public class AccurateReductionTests
{
    private static float[] Uniform(int n, ulong seed, double low = 0, double high = 1)
    {
        var g = new Generator(seed);
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = (float)(low + (high - low) * g.NextDouble());
        return values;
    }

    private static void AssertRelative(double expected, double actual, double bound, string what) =>
        Assert.True(Math.Abs(actual - expected) <= bound * Math.Abs(expected),
            $"{what}: {actual:R} vs {expected:R}, relative error {Math.Abs(actual - expected) / Math.Abs(expected):E2} > {bound:E1}");

    [Fact]
    public void Sum_of_ten_million_uniform_floats_matches_a_float64_reference()
    {
        var values = Uniform(10_000_000, 11);
        double reference = 0;
        foreach (var v in values) reference += v;
        AssertRelative(reference, Tensor.FromArray(values, values.Length).Sum().Item(), 1e-6, "Sum");
        AssertRelative(reference / values.Length, Tensor.FromArray(values, values.Length).Mean().Item(), 1e-6, "Mean");
    }

    [Fact]
    public void Sum_over_the_leading_dim_of_a_tall_matrix_matches_a_float64_reference()
    {
        const int rows = 1_000_000, columns = 5;
        var values = Uniform(rows * columns, 12);
        var reference = new double[columns];
        for (int i = 0; i < rows; i++)
            for (int c = 0; c < columns; c++) reference[c] += values[i * columns + c];
        var x = Tensor.FromArray(values, rows, columns);
        var sums = x.Sum(0).ToArray<double>();
        var transposedSums = x.Transpose(0, 1).Contiguous().Transpose(0, 1).Sum(0).ToArray<double>();
        for (int c = 0; c < columns; c++)
        {
            AssertRelative(reference[c], sums[c], 1e-6, $"column {c}");
            Assert.Equal(sums[c], transposedSums[c]);
        }
    }

    [Fact]
    public void Sum_of_an_expanded_one_counts_every_element()
    {
        var ones = Tensor.Ones([1]).Expand(1 << 25);
        Assert.Equal(33554432.0, ones.Sum().Item());
        Assert.Equal(1.0, ones.Mean().Item());
        var hundredMillion = Tensor.Full([1], 0.1).Expand(100_000_000);
        AssertRelative(1e8 * (double)0.1f, hundredMillion.Sum().Item(), 1e-6, "Sum of 1e8 × 0.1f");
    }

    [Fact]
    public void Variance_with_a_large_offset_is_the_spread_not_the_rounding()
    {
        var x = Tensor.Randn([1_000_000], generator: new Generator(5)) + 1e4;
        var values = x.ToArray<float>();
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= values.Length;
        double squares = 0;
        foreach (var v in values) squares += (v - mean) * (v - mean);
        double reference = squares / (values.Length - 1);
        AssertRelative(reference, x.Var().Item(), 1e-5, "Var");
        AssertRelative(Math.Sqrt(squares / values.Length), x.Std(null, correction: 0).Item(), 1e-5, "Std, correction 0");
    }

    [Fact]
    public void Mean_of_constant_rows_is_exactly_the_constant()
    {
        foreach (var constant in new[] { 1000.1f, 12345.678f, 0.1f, -3.3333333f })
        {
            var rows = Tensor.Full([7, 1001], constant);
            foreach (var mean in rows.Mean(1).ToArray<float>()) Assert.Equal(constant, mean);
            Assert.Equal(constant, rows.Mean().Item<float>());
            Assert.Equal(constant, rows.Mean([0, 1]).Item<float>());
        }
    }

    [Fact]
    public void LayerNorm_of_constant_rows_is_zero()
    {
        foreach (var constant in new[] { 1000.1, 12345.678 })
        {
            var normalized = Functional.LayerNorm(Tensor.Full([4, 768], constant), [768]);
            double largest = normalized.Abs().Max().Item();
            Assert.True(largest <= 1e-6, $"LayerNorm of rows of {constant}: largest |output| {largest}");
        }
    }

    [Fact]
    public void BatchNorm1d_standardises_features_with_a_large_offset()
    {
        var norm = new BatchNorm1d(4);
        norm.Train();
        var x = Tensor.Randn([65536, 4], generator: new Generator(6)) + 1e4;
        var y = norm.Forward(x);
        var std = y.Std([0], correction: 0).ToArray<double>();
        foreach (var s in std) Assert.True(Math.Abs(s - 1) <= 1e-3, $"output std {s}");
    }

    [Fact]
    public void LogSoftmax_over_a_long_row_matches_a_float64_reference()
    {
        var values = Uniform(10_000_000, 13, -4, 4);
        double max = values.Max();
        double sum = 0;
        foreach (var v in values) sum += Math.Exp(v - max);
        double logSum = max + Math.Log(sum);
        var logProbs = Tensor.FromArray(values, 1, values.Length).LogSoftmax(1).ToArray<float>();
        var probabilities = Tensor.FromArray(values, 1, values.Length).Softmax(1).ToArray<float>();
        double worstLog = 0, worstProbability = 0;
        for (int i = 0; i < values.Length; i++)
        {
            worstLog = Math.Max(worstLog, Math.Abs(logProbs[i] - (values[i] - logSum)));
            double p = Math.Exp(values[i] - logSum);
            worstProbability = Math.Max(worstProbability, Math.Abs(probabilities[i] - p) / p);
        }
        Assert.True(worstLog <= 1e-5, $"LogSoftmax max abs error {worstLog}");
        Assert.True(worstProbability <= 1e-5, $"Softmax max relative error {worstProbability}");
        AssertRelative(logSum, Tensor.FromArray(values, values.Length).LogSumExp(0).Item(), 1e-6, "LogSumExp");
    }

    [Fact]
    public void Var_and_Std_without_degrees_of_freedom_are_NaN_and_the_mean_of_nothing_is_NaN()
    {
        var one = Tensor.FromArray(new[] { 2.5f }, 1);
        Assert.True(double.IsNaN(one.Var().Item()));
        Assert.True(double.IsNaN(one.Std().Item()));
        Assert.Equal(0.0, one.Var(null, correction: 0).Item());
        // torch.var divides by max(0, n − correction): a positive sum of squares over 0 is +∞.
        Assert.True(double.IsPositiveInfinity(Tensor.FromArray(new[] { 1f, 3f }, 2).Var(null, correction: 2).Item()));
        var empty = Tensor.Zeros([0]);
        Assert.True(double.IsNaN(empty.Mean().Item()));
        Assert.Equal(0.0, empty.Sum().Item());
        Assert.True(double.IsNaN(Tensor.Zeros([3, 0]).Mean(1).ToArray<double>()[0]));
    }

    [Fact]
    public void Norm_of_a_zero_vector_has_a_zero_gradient()
    {
        var x = Tensor.Zeros([5], requiresGrad: true);
        var norm = x.Norm();
        Assert.Equal(0.0, norm.Item());
        norm.Backward();
        Assert.Equal(new double[5], x.Grad!.ToArray<double>());

        var y = Tensor.FromArray(new double[] { 3, 4 }, 2).SetRequiresGrad();
        var yNorm = y.Norm();
        Assert.Equal(5.0, yNorm.Item());
        var grad = Autograd.Grad([yNorm], [y], createGraph: true)[0]!;
        var first = grad.ToArray<double>();
        Assert.True(Math.Abs(first[0] - 0.6) <= 1e-15 && Math.Abs(first[1] - 0.8) <= 1e-15, $"{first[0]}, {first[1]}");
        // d/dy of Σ ∂‖y‖/∂y = (1·‖y‖² − y·Σy)/‖y‖³ = (25 − 3·7)/125, (25 − 4·7)/125.
        var second = Autograd.Grad([grad.Sum()], [y])[0]!.ToArray<double>();
        Assert.True(Math.Abs(second[0] - 4.0 / 125) <= 1e-12 && Math.Abs(second[1] + 3.0 / 125) <= 1e-12, $"{second[0]}, {second[1]}");
    }

    /// <summary>
    /// The documented order, written plainly: element j of an output's sequence goes into lane j mod 16 of its block
    /// of 4096; a block's lanes fold by halving; block sums add up in order; one rounding at the end.
    /// </summary>
    private static float ScalarModelSum(ReadOnlySpan<float> values)
    {
        double total = 0;
        for (int start = 0; start < values.Length; start += 4096)
        {
            var lanes = new double[16];
            int end = Math.Min(values.Length, start + 4096);
            for (int j = start; j < end; j++) lanes[(j - start) % 16] += values[j];
            for (int half = 8; half >= 1; half /= 2)
                for (int i = 0; i < half; i++) lanes[i] += lanes[i + half];
            total += lanes[0];
        }
        return (float)total;
    }

    [Fact]
    public void Float32_sum_is_bit_identical_to_a_scalar_model_of_the_fixed_order()
    {
        // Lengths that end inside a lane group and inside a block; values of mixed sign and magnitude, so that the
        // order of the additions shows in the last bits.
        var g = new Generator(21);
        foreach (int n in new[] { 1, 15, 16, 17, 4095, 4096, 4097, 100_003, 1_000_000 })
        {
            var values = new float[n];
            for (int i = 0; i < n; i++) values[i] = (float)((g.NextDouble() - 0.3) * Math.Pow(10, 8 * g.NextDouble() - 4));
            Assert.Equal(ScalarModelSum(values), Tensor.FromArray(values, n).Sum().Item<float>());

            // The same sequence reached through a strided view, a misaligned offset, and as columns of a matrix.
            var spaced = new float[2 * n + 1];
            for (int i = 0; i < n; i++) spaced[2 * i + 1] = values[i];
            Assert.Equal(ScalarModelSum(values), Tensor.FromArray(spaced, 2 * n + 1).Narrow(0, 1, 2 * n).Reshape(n, 2).Sum(0).ToArray<float>()[0]);
        }
        var matrix = new float[3000 * 300];
        for (int i = 0; i < matrix.Length; i++) matrix[i] = (float)((g.NextDouble() - 0.5) * Math.Pow(10, 6 * g.NextDouble() - 3));
        var columnSums = Tensor.FromArray(matrix, 3000, 300).Sum(0).ToArray<float>();
        var rowSums = Tensor.FromArray(matrix, 3000, 300).Transpose(0, 1).Sum(1).ToArray<float>();
        var column = new float[3000];
        for (int c = 0; c < 300; c++)
        {
            for (int r = 0; r < 3000; r++) column[r] = matrix[r * 300 + c];
            Assert.Equal(ScalarModelSum(column), columnSums[c]);
            Assert.Equal(ScalarModelSum(column), rowSums[c]);
        }
    }
}
