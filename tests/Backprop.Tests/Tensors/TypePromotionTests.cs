namespace Backprop.Tests.Tensors;

/// <summary>
/// PyTorch's type promotion (docs/architecture.md, Note [Type promotion]), checked as tables against
/// <see cref="DTypes"/> and against the dtypes the binary ops actually return.
/// </summary>
public class TypePromotionTests
{
    // torch.promote_types for every pair (the table is symmetric; both orders are checked).
    public static TheoryData<DType, DType, DType> PromoteTable => new()
    {
        { DType.Bool, DType.Bool, DType.Bool },
        { DType.Bool, DType.Int32, DType.Int32 },
        { DType.Bool, DType.Int64, DType.Int64 },
        { DType.Bool, DType.Float32, DType.Float32 },
        { DType.Bool, DType.Float64, DType.Float64 },
        { DType.Int32, DType.Int32, DType.Int32 },
        { DType.Int32, DType.Int64, DType.Int64 },
        { DType.Int32, DType.Float32, DType.Float32 },
        { DType.Int32, DType.Float64, DType.Float64 },
        { DType.Int64, DType.Int64, DType.Int64 },
        { DType.Int64, DType.Float32, DType.Float32 },
        { DType.Int64, DType.Float64, DType.Float64 },
        { DType.Float32, DType.Float32, DType.Float32 },
        { DType.Float32, DType.Float64, DType.Float64 },
        { DType.Float64, DType.Float64, DType.Float64 },
        { DType.Bool, DType.Float16, DType.Float16 },
        { DType.Bool, DType.BFloat16, DType.BFloat16 },
        { DType.Int32, DType.Float16, DType.Float16 },
        { DType.Int64, DType.BFloat16, DType.BFloat16 },
        { DType.Int64, DType.Float16, DType.Float16 },
        { DType.Int32, DType.BFloat16, DType.BFloat16 },
        { DType.Float16, DType.Float16, DType.Float16 },
        { DType.BFloat16, DType.BFloat16, DType.BFloat16 },
        { DType.Float16, DType.BFloat16, DType.Float32 },
        { DType.Float16, DType.Float32, DType.Float32 },
        { DType.BFloat16, DType.Float32, DType.Float32 },
        { DType.Float16, DType.Float64, DType.Float64 },
        { DType.BFloat16, DType.Float64, DType.Float64 },
    };

    [Fact]
    public void The_table_covers_every_pair_of_dtypes()
    {
        var covered = PromoteTable.Select(row => ((DType)row[0], (DType)row[1])).ToHashSet();
        foreach (var a in Enum.GetValues<DType>())
            foreach (var b in Enum.GetValues<DType>())
                Assert.True(covered.Contains((a, b)) || covered.Contains((b, a)), $"no promotion row for {a.DisplayName()} with {b.DisplayName()}");
    }

    [Theory]
    [MemberData(nameof(PromoteTable))]
    public void Tensors_of_equal_standing_promote_to_the_smallest_dtype_holding_both(DType a, DType b, DType expected)
    {
        Assert.Equal(expected, DTypes.Promote(a, b));
        Assert.Equal(expected, DTypes.Promote(b, a));
        Assert.Equal(expected, DTypes.ResultType(Tensor.Ones([2], a), Tensor.Ones([2], b)));
        Assert.Equal(expected, DTypes.ResultType(Tensor.Ones([], a), Tensor.Ones([], b)));
        var sum = Tensor.Ones([2], a) + Tensor.Ones([2], b);
        Assert.Equal(expected, sum.DType);
        Assert.Equal(expected == DType.Bool ? [1.0, 1.0] : new[] { 2.0, 2.0 }, sum.ToArray<double>()); // bool + is or
        Assert.Equal(expected, (Tensor.Ones([2], b) * Tensor.Ones([1], a)).DType);
    }

    // (dimensioned tensor's dtype, 0-dim tensor's dtype, result): a 0-dim tensor only counts when its category
    // (bool < integer < float) is higher than the dimensioned tensor's.
    public static TheoryData<DType, DType, DType> ZeroDimTable => new()
    {
        { DType.Float32, DType.Float64, DType.Float32 },
        { DType.Float64, DType.Float32, DType.Float64 },
        { DType.Int32, DType.Int64, DType.Int32 },
        { DType.Int64, DType.Int32, DType.Int64 },
        { DType.Int32, DType.Float64, DType.Float64 },
        { DType.Int64, DType.Float32, DType.Float32 },
        { DType.Bool, DType.Int32, DType.Int32 },
        { DType.Bool, DType.Float64, DType.Float64 },
        { DType.Float32, DType.Int64, DType.Float32 },
        { DType.Int32, DType.Bool, DType.Int32 },
        { DType.Float16, DType.Float64, DType.Float16 },
        { DType.BFloat16, DType.Float32, DType.BFloat16 },
        { DType.Float16, DType.BFloat16, DType.Float16 },
        { DType.Int64, DType.Float16, DType.Float16 },
    };

    [Theory]
    [MemberData(nameof(ZeroDimTable))]
    public void A_zero_dim_tensor_does_not_promote_a_tensor_of_its_category_or_higher(DType dimensioned, DType zeroDim, DType expected)
    {
        var x = Tensor.Ones([3], dimensioned);
        var s = Tensor.Full([], 2, zeroDim);
        Assert.Equal(expected, DTypes.ResultType(x, s));
        Assert.Equal(expected, DTypes.ResultType(s, x));
        if (expected == DType.Bool) return;
        var product = x * s;
        Assert.Equal(expected, product.DType);
        Assert.Equal(new Shape(3), product.Shape);
        double factor = zeroDim == DType.Bool ? 1 : 2; // Full(2) as Bool is true
        Assert.Equal(new[] { factor, factor, factor }, product.ToArray<double>());
        Assert.Equal(expected, (s - x).DType);
    }

    // (tensor dtype, C# number, result): C# numbers are doubles; a whole one counts as an integer, a fraction (or an
    // infinity, or NaN) as a float, which with an integer or bool tensor gives the default float dtype, float32.
    public static TheoryData<DType, double, DType> ScalarTable => new()
    {
        { DType.Int32, 2.5, DType.Float32 },
        { DType.Int64, 2.5, DType.Float32 },
        { DType.Bool, 2.5, DType.Float32 },
        { DType.Int32, double.PositiveInfinity, DType.Float32 },
        { DType.Int64, double.NaN, DType.Float32 },
        { DType.Int32, 2, DType.Int32 },
        { DType.Int64, -3, DType.Int64 },
        { DType.Bool, 3, DType.Int64 },
        { DType.Float32, 1e300, DType.Float32 },
        { DType.Float32, 2, DType.Float32 },
        { DType.Float64, 0.1, DType.Float64 },
        { DType.Float16, 0.5, DType.Float16 },
        { DType.BFloat16, 3, DType.BFloat16 },
    };

    [Theory]
    [MemberData(nameof(ScalarTable))]
    public void A_csharp_number_promotes_only_across_categories(DType dtype, double scalar, DType expected)
    {
        Assert.Equal(expected, DTypes.ResultType(dtype, scalar));
        var x = Tensor.Ones([2], dtype);
        var sum = x + scalar;
        Assert.Equal(expected, sum.DType);
        double one = 1;
        var expectedValue = expected switch
        {
            DType.Float32 => (double)(float)(1f + (float)scalar),
            DType.Float16 => (double)(Half)(1f + (float)scalar),
            DType.BFloat16 => BFloat16.FromSingle(1f + (float)scalar),
            DType.Int32 => (int)one + (int)scalar,
            DType.Int64 => 1L + (long)scalar,
            _ => one + scalar,
        };
        Assert.Equal(new[] { expectedValue, expectedValue }, sum.ToArray<double>());
        Assert.Equal(expected, (scalar * x).DType);
    }

    [Fact]
    public void Int32_arithmetic_stays_int32_and_division_gives_the_default_float()
    {
        var a = Tensor.FromArray(new[] { 7, -7, 9 }, [3], DType.Int32);
        var b = Tensor.FromArray(new[] { 2, 2, -4 }, [3], DType.Int32);
        Assert.Equal(new[] { 9, -5, 5 }, (a + b).ToArray<int>());
        Assert.Equal(new[] { 14, -14, -36 }, (a * b).ToArray<int>());
        var quotient = a / b;
        Assert.Equal(DType.Float32, quotient.DType);
        Assert.Equal(new[] { 3.5f, -3.5f, -2.25f }, quotient.ToArray<float>());
    }
}
