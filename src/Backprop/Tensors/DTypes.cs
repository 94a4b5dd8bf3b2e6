namespace Backprop;

/// <summary>
/// PyTorch's type promotion (docs/architecture.md, Note [Type promotion]): the dtype a binary op computes in.
/// </summary>
public static class DTypes
{
    /// <summary>The default floating-point dtype: what an integer tensor combined with a fractional C# scalar becomes.</summary>
    public const DType DefaultFloat = DType.Float32;

    /// <summary>The kind of a dtype: a higher category always wins over a lower one (bool &lt; integer &lt; float).</summary>
    public static int Category(DType dtype) => dtype switch
    {
        DType.Bool => 0,
        DType.Int32 or DType.Int64 => 1,
        DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    // Rank within the lattice bool < int32 < int64 < {float16, bfloat16} < float32 < float64: the smallest dtype
    // holding both is the higher rank, except that the two 16-bit floats hold neither of each other and meet in float32.
    private static int Rank(DType dtype) => dtype switch
    {
        DType.Bool => 0,
        DType.Int32 => 1,
        DType.Int64 => 2,
        DType.Float16 or DType.BFloat16 => 3,
        DType.Float32 => 4,
        DType.Float64 => 5,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    /// <summary>
    /// The dtype two tensors of equal standing (both with dimensions, or both 0-dim) promote to: the smallest dtype of
    /// the lattice bool &lt; int32 &lt; int64 &lt; float16, bfloat16 &lt; float32 &lt; float64 that holds both
    /// (torch.promote_types); float16 with bfloat16 is float32.
    /// </summary>
    public static DType Promote(DType a, DType b)
    {
        if (a != b && a.IsHalf() && b.IsHalf()) return DType.Float32;
        return Rank(a) >= Rank(b) ? a : b;
    }

    /// <summary>
    /// The dtype of a binary op on <paramref name="a"/> and <paramref name="b"/> (torch.result_type): a 0-dim tensor
    /// takes part only when its category (bool, integer, float) is higher than the other operand's, so
    /// <c>float32 tensor + float64 0-dim tensor</c> stays float32 and <c>int32 tensor + int64 0-dim</c> stays int32,
    /// while <c>int tensor + float 0-dim</c> becomes a float.
    /// </summary>
    public static DType ResultType(Tensor a, Tensor b)
    {
        bool aDimensioned = a.Rank > 0, bDimensioned = b.Rank > 0;
        if (aDimensioned == bDimensioned) return Promote(a.DType, b.DType);
        var (higher, lower) = aDimensioned ? (a.DType, b.DType) : (b.DType, a.DType);
        return Category(lower) > Category(higher) ? Promote(higher, lower) : higher;
    }

    /// <summary>
    /// The dtype of a binary op of a <paramref name="tensor"/> with a C# number: the tensor's dtype unless the number is
    /// of a higher category (a fraction with an integer or bool tensor gives <see cref="DefaultFloat"/>, a whole number
    /// with a bool tensor gives Int64), as PyTorch treats Python scalars.
    /// </summary>
    public static DType ResultType(DType tensor, double scalar)
    {
        if (tensor.IsFloatingPoint()) return tensor;
        if (!double.IsInteger(scalar)) return DefaultFloat; // C# numbers are doubles: a whole one counts as an integer
        return tensor == DType.Bool ? DType.Int64 : tensor;
    }
}
