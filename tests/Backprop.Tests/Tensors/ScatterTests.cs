namespace Backprop.Tests.Tensors;

/// <summary>MaskedFill, Scatter, ScatterReduce, IndexPut and IndexAdd against values worked out by hand from PyTorch's definitions.</summary>
public class ScatterTests
{
    private const double NaN = double.NaN;
    private const double Inf = double.PositiveInfinity;

    private static Tensor M(double[,] values) => Tensor.FromArray(values);
    private static Tensor Idx(long[,] values) => Tensor.FromArray(values);

    private static void AssertValues(double[] expected, Tensor actual, string what)
    {
        var got = actual.ToArray<double>();
        Assert.True(expected.Length == got.Length, $"{what}: {got.Length} values, expected {expected.Length}");
        for (int i = 0; i < got.Length; i++)
        {
            bool same = double.IsNaN(expected[i]) ? double.IsNaN(got[i]) : got[i] == expected[i] || Math.Abs(got[i] - expected[i]) <= 1e-12 * Math.Max(1, Math.Abs(expected[i]));
            Assert.True(same, $"{what}: element {i} is {got[i]}, expected {expected[i]}");
        }
    }

    [Fact]
    public void MaskedFill_takes_any_nonzero_mask_broadcast_to_the_input()
    {
        var x = M(new double[,] { { 1, 2, 3 }, { 4, NaN, 6 } });
        var floatMask = Tensor.FromArray(new[] { 0.0, -0.5, 0.0 });
        AssertValues([1, -1, 3, 4, -1, 6], x.MaskedFill(floatMask, -1), "float mask row");
        var longMask = Tensor.FromArray(new long[,] { { 1 }, { 0 } });
        AssertValues([Inf, Inf, Inf, 4, NaN, 6], x.MaskedFill(longMask, Inf), "int64 column mask");
        AssertValues([1, 2, 3, 4, 0, 6], x.MaskedFill(x.Ne(x), 0), "NaN replaced through a comparison");
        AssertValues([1, 9, 2, 9, 3, 9], x.T.MaskedFill(Tensor.FromArray(new[] { 0.0, 1.0 }), 9), "transposed input");
        Assert.Equal(new Shape(0, 3), Tensor.Zeros(0, 3).MaskedFill(floatMask, 1).Shape);
        Assert.Throws<ShapeMismatchException>(() => Tensor.Ones(3).MaskedFill(Tensor.Ones(2, 3), 1));
    }

    [Fact]
    public void MaskedFill_with_a_tensor_value_sends_it_the_gradient_of_every_filled_element()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0, 3.0 });
        var value = Tensor.Scalar(5.0, DType.Float64);
        x.RequiresGrad = true;
        value.RequiresGrad = true;
        var y = x.MaskedFill(Tensor.FromArray(new long[] { 1, 0, 1 }), value);
        AssertValues([5, 2, 5], y, "value");
        (y * Tensor.FromArray(new[] { 10.0, 20.0, 30.0 })).Sum().Backward();
        AssertValues([0, 20, 0], x.Grad!, "input gradient");
        AssertValues([40], value.Grad!.Reshape(1), "value gradient");
    }

    [Fact]
    public void Scatter_replaces_along_a_dim_and_reads_only_the_index_region_of_a_larger_source()
    {
        var x = Tensor.Zeros(new Shape(3, 4), DType.Float64);
        var source = M(new double[,] { { 1, 2, 3, 4, 5 }, { 6, 7, 8, 9, 10 } });
        var index = Idx(new long[,] { { 0, 1, 2, 0 }, { 2, 0, 1, 1 } });
        // torch.zeros(3, 4).scatter(0, index, src): y[index[i][j]][j] = src[i][j].
        AssertValues([1, 7, 0, 4, 0, 2, 8, 9, 6, 0, 3, 0], x.Scatter(0, index, source), "dim 0");
        var rowIndex = Idx(new long[,] { { 3, 1 } });
        AssertValues([0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0], x.Scatter(-1, rowIndex, source), "negative dim");
        AssertValues([0, 0.5, 0, 0.5, 0, 0, 0, 0, 0, 0, 0, 0], x.Scatter(1, rowIndex, 0.5), "scalar");
        // Colliding positions take the last value in row-major order.
        AssertValues([0, 0, 2, 0], Tensor.Zeros(new Shape(1, 4), DType.Float64).Scatter(1, Idx(new long[,] { { 2, 2 } }), source), "collision");
        AssertValues([1, 2, 3], Tensor.FromArray(new[] { 1.0, 2, 3 }).Scatter(0, Tensor.FromArray(Array.Empty<long>(), 0), Tensor.Zeros(new Shape(0), DType.Float64)), "empty index");
        Assert.Throws<IndexOutOfRangeException>(() => x.Scatter(0, Idx(new long[,] { { 3 } }), source));
        Assert.Throws<ShapeMismatchException>(() => x.Scatter(0, Idx(new long[,] { { 0, 0, 0, 0, 0, 0 } }), source));
        Assert.Throws<ArgumentException>(() => x.Scatter(0, index.To(DType.Float64), source));
    }

    [Theory]
    [InlineData(ScatterReduction.Sum, true, new[] { 10.0, 5, 3, 13, 200, -7 })]
    [InlineData(ScatterReduction.Sum, false, new[] { 9.0, 3, 3, 10, 100, -10 })]
    [InlineData(ScatterReduction.Prod, true, new[] { 20.0, 6, 3, 0, 10000, -30 })]
    [InlineData(ScatterReduction.Prod, false, new[] { 20.0, 3, 3, 0, 100, -10 })]
    [InlineData(ScatterReduction.Mean, true, new[] { 10.0 / 3, 2.5, 3, 13.0 / 3, 100, -3.5 })]
    [InlineData(ScatterReduction.Mean, false, new[] { 4.5, 3, 3, 5, 100, -10 })]
    [InlineData(ScatterReduction.Amax, true, new[] { 5.0, 3, 3, 10, 100, 3 })]
    [InlineData(ScatterReduction.Amax, false, new[] { 5.0, 3, 3, 10, 100, -10 })]
    [InlineData(ScatterReduction.Amin, true, new[] { 1.0, 2, 3, 0, 100, -10 })]
    [InlineData(ScatterReduction.Amin, false, new[] { 4.0, 3, 3, 0, 100, -10 })]
    public void ScatterReduce_combines_as_torch_scatter_reduce(ScatterReduction reduction, bool includeSelf, double[] expected)
    {
        // First: self (1, 2, 3), sources 4, 5 → position 0 and 3 → position 1; position 2 untouched.
        var first = Tensor.FromArray(new[] { 1.0, 2, 3 }).ScatterReduce(0, Tensor.FromArray(new long[] { 0, 0, 1 }),
            Tensor.FromArray(new[] { 4.0, 5, 3 }), reduction, includeSelf);
        AssertValues(expected[..3], first, $"{reduction}, includeSelf {includeSelf}, first");
        // Second: self (3, 100, 3), sources 0, 10 → position 0, 100 → position 1, −10 → position 2.
        var second = Tensor.FromArray(new[] { 3.0, 100, 3 }).ScatterReduce(0, Tensor.FromArray(new long[] { 0, 0, 1, 2 }),
            Tensor.FromArray(new[] { 0.0, 10, 100, -10 }), reduction, includeSelf);
        AssertValues(expected[3..], second, $"{reduction}, includeSelf {includeSelf}, second");
        // The first case again as row 0 of a transposed self, along dim 1, in float32.
        var self = Tensor.FromArray(new float[,] { { 1, 3 }, { 2, 100 }, { 3, 3 } }).T;
        var index = Tensor.FromArray(new long[,] { { 0, 0, 1 }, { 0, 0, 1 } });
        var source = Tensor.FromArray(new float[,] { { 4, 5, 3 }, { 0, 10, 100 } });
        var rows = self.ScatterReduce(1, index, source, reduction, includeSelf).Narrow(0, 0, 1).To(DType.Float64).ToArray<double>();
        for (int i = 0; i < 3; i++)
            Assert.True(Math.Abs(rows[i] - expected[i]) <= 1e-6 * Math.Abs(expected[i]), $"float32 transposed: element {i} is {rows[i]}, expected {expected[i]}");
    }

    [Fact]
    public void ScatterReduce_amax_and_amin_propagate_NaN_and_reach_infinities()
    {
        var self = Tensor.FromArray(new[] { 0.0, 0, 0 });
        var source = Tensor.FromArray(new[] { NaN, 1, Inf, -Inf });
        var index = Tensor.FromArray(new long[] { 0, 0, 1, 2 });
        AssertValues([NaN, Inf, 0], self.ScatterReduce(0, index, source, ScatterReduction.Amax), "amax");
        AssertValues([NaN, 0, -Inf], self.ScatterReduce(0, index, source, ScatterReduction.Amin), "amin");
        AssertValues([NaN, Inf, -Inf], self.ScatterReduce(0, index, source, ScatterReduction.Sum), "sum");
    }

    [Fact]
    public void ScatterReduce_on_int64_keeps_integers_and_floors_means()
    {
        var self = Tensor.FromArray(new long[] { 1, 10, 7 });
        var source = Tensor.FromArray(new long[] { -4, 2, 3, 5 });
        var index = Tensor.FromArray(new long[] { 0, 0, 1, 1 });
        // Means (1 − 4 + 2)/3 = −1/3 → −1 and (10 + 3 + 5)/3 = 6; position 2 keeps 7.
        Assert.Equal([-1L, 6, 7], self.ScatterReduce(0, index, source, ScatterReduction.Mean).ToArray<long>());
        Assert.Equal([-8L, 150, 7], self.ScatterReduce(0, index, source, ScatterReduction.Prod).ToArray<long>());
        Assert.Equal([2L, 10, 7], self.ScatterReduce(0, index, source, ScatterReduction.Amax).ToArray<long>());
    }

    [Fact]
    public void ScatterReduce_gradients_follow_torch()
    {
        var self = Tensor.FromArray(new[] { 2.0, 0, 5 });
        var source = Tensor.FromArray(new[] { 3.0, 0, 4, 0, 5 });
        var index = Tensor.FromArray(new long[] { 0, 0, 1, 2, 2 });
        self.RequiresGrad = true;
        source.RequiresGrad = true;
        // prod: position 0 = 2·3·0 with one zero source; position 1 = 0·4 with a zero self; position 2 = 5·0·5.
        self.ScatterReduce(0, index, source, ScatterReduction.Prod).Sum().Backward();
        AssertValues([0, 4, 0], self.Grad!, "prod self");
        AssertValues([0, 6, 0, 25, 0], source.Grad!, "prod source");

        // amax with ties: position 2 is max(5, 0, 5) = 5, shared by self and the last source.
        self.Grad = null;
        source.Grad = null;
        self.ScatterReduce(0, index, source, ScatterReduction.Amax).Sum().Backward();
        AssertValues([0, 0, 0.5], self.Grad!, "amax self");
        AssertValues([1, 0, 1, 0, 0.5], source.Grad!, "amax source");

        // mean excluding self: position 0 averages 3 and 0, so each gets ½; self gets nothing where it was replaced.
        self.Grad = null;
        source.Grad = null;
        self.ScatterReduce(0, index, source, ScatterReduction.Mean, includeSelf: false).Sum().Backward();
        AssertValues([0, 0, 0], self.Grad!, "mean self");
        AssertValues([0.5, 0.5, 1, 0.5, 0.5], source.Grad!, "mean source");

        // amin excluding self: self (which equals the minimum at position 1) takes no part and gets nothing.
        self.Grad = null;
        source.Grad = null;
        var untouched = Tensor.FromArray(new[] { 7.0, 4, 1, 9 });
        untouched.RequiresGrad = true;
        untouched.ScatterReduce(0, Tensor.FromArray(new long[] { 1, 1 }), Tensor.FromArray(new[] { 4.0, 6 }), ScatterReduction.Amin, includeSelf: false)
            .Sum().Backward();
        AssertValues([1, 0, 1, 1], untouched.Grad!, "amin self");
    }

    [Fact]
    public void IndexPut_writes_or_accumulates_at_tensor_indices()
    {
        var x = M(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var rows = Tensor.FromArray(new long[] { 0, 1, -1 });
        var cols = Tensor.FromArray(new long[] { 2, 0, 0 });
        AssertValues([1, 2, 10, 30, 5, 6], x.IndexPut([rows, cols], Tensor.FromArray(new[] { 10.0, 20, 30 })), "put, last wins");
        AssertValues([1, 2, 13, 54, 5, 6], x.IndexPut([rows, cols], Tensor.FromArray(new[] { 10.0, 20, 30 }), accumulate: true), "accumulate");
        AssertValues([1, 2, 13, 24, 5, 6], x.IndexPut([rows, cols], Tensor.Scalar(10.0, DType.Float64), accumulate: true), "broadcast value");
        // A single index tensor names whole rows; indices broadcast against each other.
        AssertValues([0, 0, 0, 4, 5, 6], x.IndexPut([Tensor.FromArray(new long[] { 0 })], Tensor.Scalar(0.0, DType.Float64)), "row");
        AssertValues([7, 2, 7, 4, 5, 6], x.IndexPut([Tensor.FromArray(new long[] { 0 }), Tensor.FromArray(new long[] { 0, 2 })], Tensor.Scalar(7.0, DType.Float64)), "broadcast indices");
        AssertValues([1, 2, 3, 4, 5, 6], x.IndexPut([Tensor.FromArray(Array.Empty<long>(), 0)], Tensor.Zeros(new Shape(0, 3), DType.Float64)), "empty");
        AssertValues([1, 4, 2, 5, 9, 6], x.T.IndexPut([Tensor.FromArray(new long[] { 2 }), Tensor.FromArray(new long[] { 0 })], Tensor.Scalar(9.0, DType.Float64)), "transposed");
        Assert.Throws<IndexOutOfRangeException>(() => x.IndexPut([Tensor.FromArray(new long[] { 2 })], Tensor.Scalar(0.0, DType.Float64)));
        Assert.Throws<ShapeMismatchException>(() => x.IndexPut([rows, cols], Tensor.Ones(2)));
    }

    [Fact]
    public void IndexAdd_scales_the_source_by_alpha()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2, 3 });
        var source = Tensor.FromArray(new[] { 10.0, 20, 30 });
        var index = Tensor.FromArray(new long[] { 2, 0, 2 });
        AssertValues([-39, 2, -77], x.IndexAdd(0, index, source, alpha: -2), "alpha −2");
        source.RequiresGrad = true;
        x.IndexAdd(0, index, source, alpha: 0.5).Sum().Backward();
        AssertValues([0.5, 0.5, 0.5], source.Grad!, "source gradient");
    }
}
