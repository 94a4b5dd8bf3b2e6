namespace Backprop.Tests.Tensors;

/// <summary>Comparisons and logical ops return Bool, with PyTorch's NaN, infinity and broadcasting semantics.</summary>
public class LogicalTests
{
    private static readonly double[] Left = [-1, 0, 2, double.NaN, double.PositiveInfinity, double.NegativeInfinity, 3];
    private static readonly double[] Right = [0, 0, 1, double.NaN, double.PositiveInfinity, 5, double.NaN];

    public static TheoryData<string, Func<Tensor, Tensor, Tensor>, Func<double, double, bool>> Comparisons => new()
    {
        { "Eq", (a, b) => a.Eq(b), (a, b) => a == b },
        { "Ne", (a, b) => a.Ne(b), (a, b) => a != b },
        { "Lt", (a, b) => a.Lt(b), (a, b) => a < b },
        { "Le", (a, b) => a.Le(b), (a, b) => a <= b },
        { "Gt", (a, b) => a.Gt(b), (a, b) => a > b },
        { "Ge", (a, b) => a.Ge(b), (a, b) => a >= b },
        { "operator <", (a, b) => a < b, (a, b) => a < b },
        { "operator >=", (a, b) => a >= b, (a, b) => a >= b },
    };

    [Theory]
    [MemberData(nameof(Comparisons))]
    public void Comparisons_return_bool_with_ieee_nan_semantics(string name, Func<Tensor, Tensor, Tensor> op, Func<double, double, bool> reference)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var y = op(Tensor.FromArray(Left).To(dtype), Tensor.FromArray(Right).To(dtype));
            Assert.True(y.DType == DType.Bool, $"{name} on {dtype.DisplayName()} returned {y.DType.DisplayName()}");
            Assert.Equal(Left.Zip(Right, reference).ToArray(), y.ToArray<bool>());
        }
        // Non-contiguous operands, broadcast against a row, and integers compared with a float.
        var matrix = Tensor.FromArray(new long[] { 1, 4, 2, 5, 3, 6 }, 2, 3).Transpose(0, 1); // [[1,5],[4,3],[2,6]]
        var row = Tensor.FromArray(new[] { 2.5, 4.0 });
        var expected = new[] { 1.0, 5, 4, 3, 2, 6 }.Select((v, i) => reference(v, i % 2 == 0 ? 2.5 : 4.0)).ToArray();
        var broadcast = op(matrix, row);
        Assert.Equal(DType.Bool, broadcast.DType);
        Assert.Equal(new Shape(3, 2), broadcast.Shape);
        Assert.Equal(expected, broadcast.ToArray<bool>());
        Assert.Empty(op(Tensor.Zeros([0, 2]), row).ToArray<bool>());
        Assert.Equal(DType.Bool, op(Tensor.Zeros([0, 2]), row).DType);
    }

    [Fact]
    public void Comparisons_with_a_number_and_between_bools()
    {
        var ints = Tensor.FromArray(new[] { 1, 2, 3 }, [3], DType.Int32);
        Assert.Equal(new[] { false, true, true }, ints.Gt(1.5).ToArray<bool>());
        Assert.Equal(new[] { false, true, false }, ints.Eq(2).ToArray<bool>());
        var mask = Tensor.FromArray(new[] { true, false, true });
        Assert.Equal(new[] { true, false, true }, mask.Eq(Tensor.FromArray(new[] { true, true, true })).ToArray<bool>());
        Assert.Equal(new[] { false, false, false }, mask.Lt(mask).ToArray<bool>());
        Assert.Equal(new[] { false, true, false }, mask.Lt(0.5).ToArray<bool>());
    }

    // Operands as doubles (0, nonzero, NaN); nonzero and NaN are true.
    private static readonly double[] P = [0, 0, 1, 1, double.NaN, -2];
    private static readonly double[] Q = [0, 3, 0, 1, 0, double.NaN];

    public static TheoryData<string, Func<Tensor, Tensor, Tensor>, Func<bool, bool, bool>> LogicalOps => new()
    {
        { "And", (a, b) => a.And(b), (a, b) => a && b },
        { "Or", (a, b) => a.Or(b), (a, b) => a || b },
        { "Xor", (a, b) => a.Xor(b), (a, b) => a ^ b },
    };

    [Theory]
    [MemberData(nameof(LogicalOps))]
    public void Logical_ops_take_any_dtype_and_return_bool(string name, Func<Tensor, Tensor, Tensor> op, Func<bool, bool, bool> reference)
    {
        var expected = P.Zip(Q, (a, b) => reference(a != 0, b != 0)).ToArray();
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var y = op(Tensor.FromArray(P).To(dtype), Tensor.FromArray(Q).To(dtype));
            Assert.True(y.DType == DType.Bool, $"{name} on {dtype.DisplayName()} returned {y.DType.DisplayName()}");
            Assert.Equal(expected, y.ToArray<bool>());
        }
        var boolP = Tensor.FromArray(P.Select(v => v != 0).ToArray());
        var intQ = Tensor.FromArray(Q.Select(v => double.IsNaN(v) ? 7 : (int)v).ToArray(), [Q.Length], DType.Int32);
        Assert.Equal(expected, op(boolP, intQ).ToArray<bool>());
        // Broadcasting a column against a transposed matrix.
        var column = Tensor.FromArray(new[] { true, false }, 2, 1);
        var matrix = Tensor.FromArray(new long[] { 0, 1, 2, 0 }, 2, 2).Transpose(0, 1); // [[0,2],[1,0]]
        var grid = op(column, matrix);
        Assert.Equal(new[] { reference(true, false), reference(true, true), reference(false, true), reference(false, false) }, grid.ToArray<bool>());
    }

    [Fact]
    public void Not_any_all_and_the_nonfinite_tests()
    {
        var x = Tensor.FromArray(new[] { 0.0, -0.0, 2, double.NaN, double.PositiveInfinity, double.NegativeInfinity });
        Assert.Equal(new[] { true, true, false, false, false, false }, x.Not().ToArray<bool>());
        Assert.Equal(new[] { false, false, false, true, false, false }, x.IsNaN().ToArray<bool>());
        Assert.Equal(new[] { false, false, false, false, true, true }, x.IsInf().ToArray<bool>());
        Assert.Equal(new[] { true, true, true, false, false, false }, x.IsFinite().ToArray<bool>());
        Assert.All(new[] { x.Not(), x.IsNaN(), x.IsInf(), x.IsFinite() }, t => Assert.Equal(DType.Bool, t.DType));
        Assert.Equal(new[] { false, true }, Tensor.FromArray(new[] { true, false }).Not().ToArray<bool>());
        Assert.Equal(new[] { true, true }, Tensor.FromArray(new long[] { 3, -1 }).IsFinite().ToArray<bool>());

        Assert.True(x.Any().Item<bool>());
        Assert.False(x.All().Item<bool>());
        Assert.Equal(0, x.Any().Rank);
        Assert.True(x[3..].All().Item<bool>()); // NaN and infinities are nonzero
        Assert.False(Tensor.Zeros([0]).Any().Item<bool>());
        Assert.True(Tensor.Zeros([0]).All().Item<bool>());
        Assert.Equal(DType.Bool, Tensor.Zeros([0]).All().DType);

        var m = Tensor.FromArray(new long[] { 0, 1, 0, 0, 1, 1 }, 2, 3).Transpose(0, 1); // [[0,0],[1,1],[0,1]]
        Assert.Equal(new[] { false, true, true }, m.Any(1).ToArray<bool>());
        Assert.Equal(new[] { false, true, false }, m.All(1).ToArray<bool>());
        Assert.Equal(new[] { true, true }, m.Any(0).ToArray<bool>());
        Assert.Equal(new[] { false, false }, m.All(0).ToArray<bool>());
        Assert.Equal(new Shape(3, 1), m.Any(-1, keepDim: true).Shape);
    }

    [Fact]
    public void Bool_results_feed_where_sum_and_arithmetic()
    {
        var x = Tensor.FromArray(new[] { -1f, 2f, 0f, 5f });
        var positive = x.Gt(0.0);
        Assert.Equal(new[] { 0f, 2f, 0f, 5f }, Tensor.Where(positive, x, 0.0).ToArray<float>());
        var count = positive.Sum();
        Assert.Equal(DType.Int64, count.DType);
        Assert.Equal(2L, count.Item<long>());
        var masked = x * positive;
        Assert.Equal(DType.Float32, masked.DType);
        Assert.Equal(new[] { -0f, 2f, 0f, 5f }, masked.ToArray<float>());
        Assert.Equal(DType.Float64, (positive * x.Double()).DType);
        Assert.Equal(new long[] { 1, 3, 1, 3 }, (positive * 2 + 1).ToArray<long>()); // bool with an integer gives int64
    }

    [Fact]
    public void Bool_arithmetic_is_logic_as_in_pytorch()
    {
        var a = Tensor.FromArray(new[] { false, false, true, true });
        var b = Tensor.FromArray(new[] { false, true, false, true });
        Assert.Equal(new[] { false, true, true, true }, (a + b).ToArray<bool>());
        Assert.Equal(new[] { false, false, false, true }, (a * b).ToArray<bool>());
        Assert.Equal(new[] { false, true, true, true }, Tensor.Maximum(a, b).ToArray<bool>());
        Assert.Equal(new[] { false, false, false, true }, Tensor.Minimum(a, b).ToArray<bool>());
        Assert.Equal(DType.Bool, (a + b).DType);
        var e = Assert.Throws<NotSupportedException>(() => a - b);
        Assert.Contains("Sub", e.Message);
        Assert.Contains("bool", e.Message);
    }
}
