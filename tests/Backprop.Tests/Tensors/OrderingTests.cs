using Backprop.Diagnostics;

namespace Backprop.Tests.Tensors;

/// <summary>
/// Scans, sorts, order statistics, flip, roll, repeat and tile against PyTorch's documented semantics, with references
/// computed independently here (hand-derived values, or the float64 definition written as plain loops).
/// </summary>
public class OrderingTests
{
    private const double NaN = double.NaN;
    private const double Inf = double.PositiveInfinity;

    private static Tensor Matrix(double[,] values) => Tensor.FromArray(values);

    private static Tensor Leaf(params double[] values)
    {
        var t = Tensor.FromArray(values);
        t.RequiresGrad = true;
        return t;
    }

    private static double[] Values(Tensor t) => t.To(DType.Float64).Contiguous().ToArray<double>();

    private static long[] Longs(Tensor t) => t.Contiguous().ToArray<long>();

    /// <summary>Element-wise equality where NaN matches NaN (Assert.Equal on doubles already does; this names the case).</summary>
    private static void AssertSame(double[] expected, Tensor actual, string what)
    {
        var values = Values(actual);
        Assert.True(expected.Length == values.Length, $"{what}: {values.Length} elements, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i].Equals(values[i]), $"{what}: element {i} is {values[i]}, expected {expected[i]}");
    }

    // ---- Cumsum and Cumprod ----

    [Fact]
    public void Cumsum_runs_along_either_dim_of_contiguous_and_transposed_inputs()
    {
        var x = Matrix(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal([1.0, 3, 6, 4, 9, 15], Values(x.Cumsum(1)));
        Assert.Equal([1.0, 2, 3, 5, 7, 9], Values(x.Cumsum(0)));
        Assert.Equal([1.0, 3, 6, 4, 9, 15], Values(x.Cumsum(-1)));
        // xᵀ is [[1, 4], [2, 5], [3, 6]]; its running sum down the columns.
        Assert.Equal([1.0, 4, 3, 9, 6, 15], Values(x.T.Cumsum(0)));
        Assert.Equal([1.0, 5, 2, 7, 3, 9], Values(x.T.Cumsum(1)));
    }

    [Fact]
    public void Cumsum_propagates_infinities_and_nan_and_keeps_empty_and_scalar_shapes()
    {
        AssertSame([1, Inf, NaN, NaN], Tensor.FromArray(new[] { 1, Inf, -Inf, 2 }).Cumsum(0), "cumsum through Inf − Inf");
        AssertSame([NaN, NaN], Tensor.FromArray(new[] { NaN, 1.0 }).Cumsum(0), "cumsum after NaN");
        Assert.Equal(new Shape(2, 0), Tensor.Zeros(2, 0).Cumsum(1).Shape);
        Assert.Equal(new Shape(0, 3), Tensor.Zeros(0, 3).Cumsum(1).Shape);
        var scalar = Tensor.FromArray(new[] { 4.5 }).Reshape();
        Assert.Equal(4.5, scalar.Cumsum(0).Item<double>());
        Assert.Equal(new Shape(), scalar.Cumsum(-1).Shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => scalar.Cumsum(1));
    }

    [Fact]
    public void Float32_cumsum_is_the_float64_running_sum_rounded_once_per_element()
    {
        // Values spanning many magnitudes, so a float32 accumulator would drift from this reference.
        var generator = new Generator(11);
        var data = Tensor.Randn(new Shape(3, 1000), DType.Float64, generator) * Tensor.FromArray(new[] { 1.0, 1e4, 1e-3 }).Reshape(3, 1);
        var single = data.To(DType.Float32).ToArray<float>();
        var expected = new float[single.Length];
        for (int r = 0; r < 3; r++)
        {
            double running = 0;
            for (int i = 0; i < 1000; i++) expected[r * 1000 + i] = (float)(running += single[r * 1000 + i]);
        }
        Assert.Equal(expected, data.To(DType.Float32).Cumsum(1).ToArray<float>());
        // The same rows laid out down the columns give the same bits.
        Assert.Equal(expected, data.To(DType.Float32).T.Contiguous().Cumsum(0).T.Contiguous().ToArray<float>());
    }

    [Fact]
    public void Int64_cumsum_and_cumprod_count_exactly()
    {
        var counts = Tensor.FromArray(new long[] { 3, 0, 2, 5, 4_000_000_000 });
        Assert.Equal([3L, 3, 5, 10, 4_000_000_010], Longs(counts.Cumsum(0)));
        Assert.Equal(DType.Int64, counts.Cumsum(0).DType);
        Assert.Equal([2L, 6, 24], Longs(Tensor.FromArray(new long[] { 2, 3, 4 }).Cumprod(0)));
    }

    [Fact]
    public void Cumsum_gradient_is_the_reverse_running_sum_of_the_upstream_gradient()
    {
        var x = Leaf(1, 2, 3, 4);
        var g = Autograd.Grad([x.Cumsum(0)], [x], [Tensor.FromArray(new[] { 1.0, 10, 100, 1000 })])[0]!;
        Assert.Equal([1111.0, 1110, 1100, 1000], Values(g));
    }

    [Fact]
    public void Cumprod_values_with_zeros_infinities_and_nan()
    {
        Assert.Equal([2.0, 6, 0, 0, 0], Values(Tensor.FromArray(new[] { 2.0, 3, 0, 5, 7 }).Cumprod(0)));
        AssertSame([2, Inf, NaN, NaN], Tensor.FromArray(new[] { 2, Inf, 0, 1 }).Cumprod(0), "Inf · 0");
        AssertSame([-1, NaN, NaN], Tensor.FromArray(new[] { -1, NaN, 3 }).Cumprod(0), "NaN");
        var x = Matrix(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        Assert.Equal([1.0, 2, 3, 8, 15, 48], Values(x.Cumprod(0)));
        Assert.Equal([1.0, 3, 15, 2, 8, 48], Values(x.T.Cumprod(1)));
    }

    /// <summary>∂L/∂xₖ = Σ_{j ≥ k} gⱼ Π_{i ≤ j, i ≠ k} xᵢ, by the definition.</summary>
    private static double[] CumprodGradientByDefinition(double[] x, double[] g)
    {
        var result = new double[x.Length];
        for (int k = 0; k < x.Length; k++)
            for (int j = k; j < x.Length; j++)
            {
                double product = 1;
                for (int i = 0; i <= j; i++) if (i != k) product *= x[i];
                result[k] += g[j] * product;
            }
        return result;
    }

    [Theory]
    [InlineData(new[] { 2.0, 0, 3, 0, 5 })]
    [InlineData(new[] { 0.0, 1.5, -2, 0.5 })]
    [InlineData(new[] { 1.5, -2, 0.5, 0 })]
    [InlineData(new[] { 0.0, 0, 3 })]
    [InlineData(new[] { 1.5, -2, 0.5, 3 })]
    [InlineData(new[] { 0.0 })]
    public void Cumprod_gradient_matches_the_definition_with_zeros(double[] values)
    {
        var x = Leaf(values);
        var upstream = Enumerable.Range(0, values.Length).Select(i => 0.5 + i).ToArray();
        var g = Autograd.Grad([x.Cumprod(0)], [x], [Tensor.FromArray(upstream)])[0]!;
        var expected = CumprodGradientByDefinition(values, upstream);
        var actual = Values(g);
        for (int i = 0; i < values.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i])), $"element {i}: {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void Cumprod_gradient_with_zeros_along_dim_0_of_a_transposed_input()
    {
        var x = Matrix(new double[,] { { 2, 0, 1.5 }, { 0, 3, -1 }, { 4, 0, 0 }, { 0.5, 2, 2 } }).T.Contiguous().T.Detach();
        x.RequiresGrad = true;
        var upstream = Matrix(new double[,] { { 1, -1, 2 }, { 0.5, 1, 1 }, { 2, 3, -1 }, { 1, 1, 1 } });
        var g = Values(Autograd.Grad([x.Cumprod(0)], [x], [upstream])[0]!);
        var columns = new[] { new[] { 2, 0, 4, 0.5 }, new[] { 0, 3, 0, 2.0 }, new[] { 1.5, -1, 0, 2 } };
        var ups = new[] { new[] { 1, 0.5, 2, 1.0 }, new[] { -1, 1, 3, 1.0 }, new[] { 2, 1, -1, 1.0 } };
        for (int c = 0; c < 3; c++)
        {
            var expected = CumprodGradientByDefinition(columns[c], ups[c]);
            for (int r = 0; r < 4; r++)
                Assert.True(Math.Abs(g[r * 3 + c] - expected[r]) <= 1e-12 * Math.Max(1, Math.Abs(expected[r])), $"({r}, {c}): {g[r * 3 + c]} vs {expected[r]}");
        }
    }

    [Theory]
    [InlineData(new[] { 2.0, 0, 3, 0.5 })]
    [InlineData(new[] { 0.0, 1.5, 0, -2 })]
    [InlineData(new[] { 1.2, -0.7, 0.9, 1.4 })]
    public void Cumprod_is_twice_differentiable_at_inputs_with_zeros(double[] values)
    {
        var x = Tensor.FromArray(values);
        x.RequiresGrad = true;
        var result = Gradgradcheck.Check(t => t[0].Cumprod(0), [x], generator: new Generator(3));
        Assert.True(result.Passed, result.ToString());
    }

    // ---- Sort, Argsort, TopK ----

    [Fact]
    public void Sort_puts_nan_last_ascending_and_first_descending_and_is_stable()
    {
        var x = Tensor.FromArray(new[] { 3, NaN, 1, -Inf, 3, Inf, 1, NaN, -0.0, 0.0 });
        var (up, upIndices) = x.Sort();
        AssertSame([-Inf, -0.0, 0.0, 1, 1, 3, 3, Inf, NaN, NaN], up, "ascending");
        Assert.Equal([3L, 8, 9, 2, 6, 0, 4, 5, 1, 7], Longs(upIndices));
        var (down, downIndices) = x.Sort(descending: true, stable: true);
        AssertSame([NaN, NaN, Inf, 3, 3, 1, 1, -0.0, 0.0, -Inf], down, "descending");
        Assert.Equal([1L, 7, 5, 0, 4, 2, 6, 8, 9, 3], Longs(downIndices));
        Assert.Equal(Longs(upIndices), Longs(x.Argsort()));
        Assert.Equal(Longs(downIndices), Longs(x.Argsort(descending: true)));
    }

    /// <summary>Ascending order by value with NaN after every number and −0 equal to +0, ties by position.</summary>
    private sealed class NaNLast : IComparer<double>
    {
        public int Compare(double a, double b) =>
            double.IsNaN(a) || double.IsNaN(b) ? double.IsNaN(a).CompareTo(double.IsNaN(b)) : a < b ? -1 : a > b ? 1 : 0;
    }

    [Theory]
    [InlineData(DType.Float64, false)]
    [InlineData(DType.Float64, true)]
    [InlineData(DType.Float32, false)]
    [InlineData(DType.Float32, true)]
    public void Sort_matches_a_stable_reference_sort_on_rows_with_repeats_and_special_values(DType dtype, bool descending)
    {
        // Few distinct values, so every row has long runs of ties, plus ±0, ±Inf and NaN.
        double[] pool = [0.0, -0.0, 1.5, -1.5, 2.25, Inf, -Inf, NaN, 1e-30, -7];
        var generator = new Generator(7);
        var picks = Tensor.RandInt(0, pool.Length, new Shape(5, 40), generator).ToArray<long>();
        var data = picks.Select(p => pool[p]).ToArray();
        var x = Tensor.FromArray(data, 5, 40).To(dtype);
        var (values, indices) = x.Sort(1, descending);
        var sortedValues = Values(values);
        var sortedIndices = Longs(indices);
        for (int r = 0; r < 5; r++)
        {
            var row = Enumerable.Range(0, 40).Select(i => (Value: (double)(dtype == DType.Float32 ? (float)data[r * 40 + i] : data[r * 40 + i]), Index: i));
            // LINQ's OrderBy and OrderByDescending are stable: equal keys keep their order.
            var expected = (descending ? row.OrderByDescending(e => e.Value, new NaNLast()) : row.OrderBy(e => e.Value, new NaNLast())).ToArray();
            for (int i = 0; i < 40; i++)
            {
                Assert.True(expected[i].Index == sortedIndices[r * 40 + i], $"row {r}, position {i}: index {sortedIndices[r * 40 + i]}, expected {expected[i].Index}");
                Assert.True(expected[i].Value.Equals(sortedValues[r * 40 + i]), $"row {r}, position {i}: value {sortedValues[r * 40 + i]}, expected {expected[i].Value}");
            }
        }
        // The same rows down the columns of the transpose sort the same way.
        Assert.Equal(sortedIndices, Longs(x.T.Contiguous().Sort(0, descending).Indices.T));
    }

    [Fact]
    public void Sort_along_dim_0_of_a_transposed_matrix_and_of_int64_labels()
    {
        var x = Matrix(new double[,] { { 3, 1, 2 }, { 9, 7, 8 } }).T; // [[3, 9], [1, 7], [2, 8]]
        var (values, indices) = x.Sort(0);
        Assert.Equal([1.0, 7, 2, 8, 3, 9], Values(values));
        Assert.Equal([1L, 1, 2, 2, 0, 0], Longs(indices));
        var (rows, rowIndices) = x.Sort(1, descending: true);
        Assert.Equal([9.0, 3, 7, 1, 8, 2], Values(rows));
        Assert.Equal([1L, 0, 1, 0, 1, 0], Longs(rowIndices));
        var labels = Tensor.FromArray(new long[] { 4, -2, 4, 9_000_000_000_000_000_001, 9_000_000_000_000_000_000 });
        var (sortedLabels, labelOrder) = labels.Sort();
        Assert.Equal([-2L, 4, 4, 9_000_000_000_000_000_000, 9_000_000_000_000_000_001], Longs(sortedLabels));
        Assert.Equal([1L, 0, 2, 4, 3], Longs(labelOrder));
    }

    [Fact]
    public void Sort_of_empty_and_scalar_tensors()
    {
        var (values, indices) = Tensor.Zeros(2, 0).Sort();
        Assert.Equal(new Shape(2, 0), values.Shape);
        Assert.Equal(new Shape(2, 0), indices.Shape);
        Assert.Equal(new Shape(0, 3), Tensor.Zeros(0, 3).Sort(1).Values.Shape);
        var (scalar, at) = Tensor.FromArray(new[] { 2.5 }).Reshape().Sort();
        Assert.Equal(2.5, scalar.Item<double>());
        Assert.Equal(0L, at.Item<long>());
        Assert.Equal(new Shape(), at.Shape);
    }

    [Fact]
    public void Sort_values_gradient_is_scattered_back_by_the_indices()
    {
        var x = Leaf(3, 1, 2);
        var (values, _) = x.Sort(descending: true);
        var g = Autograd.Grad([values], [x], [Tensor.FromArray(new[] { 10.0, 20, 30 })])[0]!;
        Assert.Equal([10.0, 30, 20], Values(g));
    }

    [Fact]
    public void TopK_returns_the_k_largest_or_smallest_in_order()
    {
        var x = Matrix(new double[,] { { 1, 5, NaN, 3 }, { 4, 4, 0, -1 } });
        var (largest, at) = x.TopK(2);
        AssertSame([NaN, 5, 4, 4], largest, "largest");
        Assert.Equal([2L, 1, 0, 1], Longs(at));
        var (smallest, smallAt) = x.TopK(3, largest: false);
        AssertSame([1, 3, 5, -1, 0, 4], smallest, "smallest");
        Assert.Equal([0L, 3, 1, 3, 2, 0], Longs(smallAt));
        var (columns, columnAt) = x.TopK(1, dim: 0);
        AssertSame([4, 5, NaN, 3], columns, "dim 0");
        Assert.Equal([1L, 0, 0, 0], Longs(columnAt));
        Assert.Equal(new Shape(2, 0), x.TopK(0).Values.Shape);
        Assert.Throws<ArgumentOutOfRangeException>(() => x.TopK(5));
        var leaf = Leaf(2, 7, 5);
        var g = Autograd.Grad([leaf.TopK(2).Values], [leaf], [Tensor.FromArray(new[] { 1.0, 2 })])[0]!;
        Assert.Equal([0.0, 1, 2], Values(g));
    }

    // ---- Kthvalue, Median, Mode ----

    [Fact]
    public void Kthvalue_is_the_kth_smallest_with_its_index()
    {
        var x = Matrix(new double[,] { { 5, 1, 4, 1 }, { NaN, 2, 8, 3 } });
        var (values, indices) = x.Kthvalue(2);
        Assert.Equal([1.0, 3], Values(values));
        Assert.Equal([3L, 3], Longs(indices));
        var (last, lastAt) = x.Kthvalue(4, 1, keepDim: true);
        Assert.Equal(new Shape(2, 1), last.Shape);
        AssertSame([5, NaN], last, "NaN is the largest");
        Assert.Equal([0L, 0], Longs(lastAt));
        var (columns, columnAt) = x.T.Kthvalue(1, 0);
        Assert.Equal([1.0, 2], Values(columns));
        Assert.Equal([1L, 1], Longs(columnAt));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Kthvalue(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => x.Kthvalue(5));
        var leaf = Leaf(4, 2, 9);
        Assert.Equal([1.0, 0, 0], Values(Autograd.Grad([leaf.Kthvalue(2).Values], [leaf])[0]!));
    }

    [Fact]
    public void Median_of_all_is_the_lower_median_and_nan_propagates()
    {
        Assert.Equal(3.0, Tensor.FromArray(new[] { 5.0, 3, 1 }).Median().Item<double>());
        Assert.Equal(2.0, Matrix(new double[,] { { 4, 1 }, { 2, 3 } }).Median().Item<double>());
        Assert.Equal(-Inf, Tensor.FromArray(new[] { -Inf, -Inf, 1 }).Median().Item<double>());
        Assert.True(double.IsNaN(Tensor.FromArray(new[] { 1, NaN, 3 }).Median().Item<double>()));
        Assert.True(double.IsNaN(Tensor.Zeros(0).Median().Item<double>()));
        Assert.Throws<InvalidOperationException>(() => Tensor.Zeros(0).To(DType.Int64).Median());
        Assert.Equal(7.0, Tensor.FromArray(new long[] { 9, 7, 1, 7 }).Median().Item<long>());
        // The gradient is shared by the elements equal to the median, as torch's evenly_distribute_backward.
        var x = Leaf(2, 5, 2, 1, 9);
        Assert.Equal([0.5, 0, 0.5, 0, 0], Values(Autograd.Grad([x.Median()], [x])[0]!));
        var withNaN = Leaf(NaN, 1, NaN);
        Assert.Equal([0.5, 0, 0.5], Values(Autograd.Grad([withNaN.Median()], [withNaN])[0]!));
    }

    [Fact]
    public void Median_along_a_dim_gives_the_lower_median_or_the_first_nan()
    {
        var x = Matrix(new double[,] { { 4, 1, 3, 2 }, { 1, NaN, 0, NaN } });
        var (values, indices) = x.Median(1);
        AssertSame([2, NaN], values, "median dim 1");
        Assert.Equal([3L, 1], Longs(indices));
        var (columns, columnAt) = x.Median(0, keepDim: true);
        Assert.Equal(new Shape(1, 4), columns.Shape);
        AssertSame([1, NaN, 0, NaN], columns, "median dim 0");
        Assert.Equal([1L, 1, 1, 1], Longs(columnAt));
        var (transposed, transposedAt) = x.T.Median(0);
        AssertSame([2, NaN], transposed, "median of the transpose");
        Assert.Equal([3L, 1], Longs(transposedAt));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 0).Median(1));
        Assert.Equal(new Shape(0), Tensor.Zeros(0, 3).Median(1).Values.Shape);
        var leaf = Leaf(4, 1, 3, 2);
        Assert.Equal([0.0, 0, 0, 1], Values(Autograd.Grad([leaf.Median(0).Values], [leaf])[0]!));
    }

    [Fact]
    public void Mode_is_the_most_frequent_value_smallest_on_ties()
    {
        var x = Matrix(new double[,] { { 3, 1, 3, 1, 2 }, { 7, 7, NaN, NaN, 5 } });
        var (values, indices) = x.Mode();
        Assert.Equal([1.0, 7], Values(values));
        Assert.Equal([3L, 1], Longs(indices));
        var (single, singleAt) = Tensor.FromArray(new[] { NaN, NaN, 4 }).Mode();
        Assert.Equal(4.0, single.Item<double>());
        Assert.Equal(2L, singleAt.Item<long>());
        var (columns, columnAt) = x.Mode(0, keepDim: true);
        Assert.Equal(new Shape(1, 5), columns.Shape);
        // Each column holds two different values (a NaN equals nothing): the smaller, at row 0, wins the tie.
        AssertSame([3, 1, 3, 1, 2], columns, "column modes");
        Assert.Equal([0L, 0, 0, 0, 0], Longs(columnAt));
        var labels = Tensor.FromArray(new long[] { 4, 2, 4, 2, 9 });
        Assert.Equal(2L, labels.Mode().Values.Item<long>());
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 0).Mode());
        var leaf = Leaf(5, 6, 5);
        Assert.Equal([0.0, 0, 1], Values(Autograd.Grad([leaf.Mode().Values], [leaf])[0]!));
    }

    // ---- Flip, Roll, Repeat, Tile ----

    [Fact]
    public void Flip_reverses_the_named_dims()
    {
        var x = Matrix(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal([3.0, 2, 1, 6, 5, 4], Values(x.Flip(1)));
        Assert.Equal([4.0, 5, 6, 1, 2, 3], Values(x.Flip(-2)));
        Assert.Equal([6.0, 5, 4, 3, 2, 1], Values(x.Flip(0, 1)));
        Assert.Equal([1.0, 2, 3, 4, 5, 6], Values(x.Flip()));
        Assert.Equal([3.0, 6, 2, 5, 1, 4], Values(x.T.Flip(0)));
        Assert.Equal([3L, 2, 1], Longs(Tensor.FromArray(new long[] { 1, 2, 3 }).Flip(0)));
        Assert.Equal(new Shape(2, 0), Tensor.Zeros(2, 0).Flip(0, 1).Shape);
        Assert.Throws<ArgumentException>(() => x.Flip(1, -1));
        // A broadcast (stride 0) input and a strided slice.
        Assert.Equal([3.0, 2, 1, 3, 2, 1], Values(Tensor.FromArray(new[] { 1.0, 2, 3 }).Expand(2, 3).Flip(1)));
        Assert.Equal([6.0, 4], Values(x.Slice(1, 0, 3, step: 2).Flip(0, 1).Reshape(-1).Slice(0, 0, 2)));
        var leaf = Leaf(1, 2, 3);
        Assert.Equal([30.0, 20, 10], Values(Autograd.Grad([leaf.Flip(0)], [leaf], [Tensor.FromArray(new[] { 10.0, 20, 30 })])[0]!));
    }

    [Fact]
    public void Roll_rotates_along_dims_or_the_flattened_tensor()
    {
        var x = Matrix(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal([3.0, 1, 2, 6, 4, 5], Values(x.Roll(1, 1)));
        Assert.Equal([2.0, 3, 1, 5, 6, 4], Values(x.Roll(-1, 1)));
        Assert.Equal([2.0, 3, 1, 5, 6, 4], Values(x.Roll(5, 1)));
        Assert.Equal([4.0, 5, 6, 1, 2, 3], Values(x.Roll(1, 0)));
        Assert.Equal([6.0, 4, 5, 3, 1, 2], Values(x.Roll([1, 1], [0, 1])));
        // Without dims: flattened [1..6] rolled by 2, then reshaped.
        Assert.Equal([5.0, 6, 1, 2, 3, 4], Values(x.Roll(2)));
        Assert.Equal(new Shape(2, 3), x.Roll(2).Shape);
        // xᵀ is [[1, 4], [2, 5], [3, 6]]; flattened row-major it is 1 4 2 5 3 6.
        Assert.Equal([3.0, 6, 1, 4, 2, 5], Values(x.T.Roll(2)));
        Assert.Equal([3.0, 6, 1, 4, 2, 5], Values(x.T.Roll(1, 0)));
        Assert.Equal(new Shape(0, 2), Tensor.Zeros(0, 2).Roll(3, 0).Shape);
        Assert.Equal([3L, 1, 2], Longs(Tensor.FromArray(new long[] { 1, 2, 3 }).Roll(1)));
        Assert.Throws<ArgumentException>(() => x.Roll([1], [0, 1]));
        var leaf = Leaf(1, 2, 3);
        Assert.Equal([20.0, 30, 10], Values(Autograd.Grad([leaf.Roll(1)], [leaf], [Tensor.FromArray(new[] { 10.0, 20, 30 })])[0]!));
    }

    /// <summary>torch.Tensor.repeat by its definition: out[i₀, …] = x[i_lead mod s₀, …] over the trailing dims.</summary>
    private static double[] RepeatByDefinition(double[] x, int[] sizes, int[] repeats)
    {
        int lead = repeats.Length - sizes.Length;
        var padded = Enumerable.Repeat(1, lead).Concat(sizes).ToArray();
        var outSizes = padded.Select((s, i) => s * repeats[i]).ToArray();
        var result = new double[outSizes.Aggregate(1, (a, b) => a * b)];
        for (int flat = 0; flat < result.Length; flat++)
        {
            int rest = flat, source = 0, stride = 1;
            for (int d = outSizes.Length - 1; d >= 0; d--)
            {
                int i = rest % outSizes[d];
                rest /= outSizes[d];
                source += i % padded[d] * stride;
                stride *= padded[d];
            }
            result[flat] = x[source];
        }
        return result;
    }

    [Theory]
    [InlineData(new[] { 2, 1 })]
    [InlineData(new[] { 1, 3 })]
    [InlineData(new[] { 2, 1, 2 })]
    [InlineData(new[] { 3, 2, 2, 1 })]
    [InlineData(new[] { 0, 2 })]
    public void Repeat_tiles_like_torch_repeat(int[] repeats)
    {
        var values = new[] { 1.0, 2, 3, 4, 5, 6 };
        var x = Tensor.FromArray(values, 2, 3);
        var expected = RepeatByDefinition(values, [2, 3], repeats);
        var actual = x.Repeat(repeats);
        Assert.Equal(expected, Values(actual));
        Assert.Equal(expected, Values(x.T.Contiguous().T.Repeat(repeats)));
        Assert.Equal(expected.Select(v => (long)v).ToArray(), Longs(x.To(DType.Int64).Repeat(repeats)));
    }

    [Fact]
    public void Repeat_and_tile_shapes_errors_and_gradient()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2 });
        Assert.Equal([1.0, 2, 1, 2, 1, 2], Values(x.Repeat(3)));
        Assert.Throws<ArgumentException>(() => Tensor.Zeros(2, 2).Repeat(2));
        Assert.Throws<ArgumentException>(() => x.Repeat(-1));
        // torch.tile pads the repeats with leading ones: a [2, 2] tiled by (2) repeats the columns.
        var m = Matrix(new double[,] { { 1, 2 }, { 3, 4 } });
        Assert.Equal([1.0, 2, 1, 2, 3, 4, 3, 4], Values(m.Tile(2)));
        Assert.Equal(new Shape(2, 4), m.Tile(2).Shape);
        Assert.Equal(new Shape(3, 2, 2), m.Tile(3, 1, 1).Shape);
        Assert.Equal(new Shape(2, 0), Tensor.Zeros(2, 0).Tile(3).Shape);
        var leaf = Leaf(1, 2);
        Assert.Equal([3.0, 3], Values(Autograd.Grad([leaf.Repeat(3).Sum()], [leaf])[0]!));
    }
}
