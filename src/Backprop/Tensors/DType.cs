namespace Backprop;

/// <summary>The element type of a tensor.</summary>
/// <remarks>New members go at the end: the numeric values are stable.</remarks>
public enum DType
{
    /// <summary>32-bit IEEE float: the default for parameters and activations.</summary>
    Float32,
    /// <summary>64-bit IEEE float: used by gradient checking, where finite differences need the precision.</summary>
    Float64,
    /// <summary>64-bit signed integer: indices and class labels.</summary>
    Int64,
    /// <summary>true/false, one byte each: masks.</summary>
    Bool,
    /// <summary>32-bit signed integer.</summary>
    Int32,
    /// <summary>16-bit IEEE float (<see cref="Half"/>); element-wise ops and matmul compute in float32 and round once.</summary>
    Float16,
    /// <summary>bfloat16 (<see cref="Backprop.BFloat16"/>): float32's range, 8 bits of precision; computes as Float16 does.</summary>
    BFloat16,
}

public static class DTypeExtensions
{
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Float64 => 8,
        DType.Int64 => 8,
        DType.Bool => 1,
        DType.Int32 => 4,
        DType.Float16 or DType.BFloat16 => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64 or DType.Float16 or DType.BFloat16;

    /// <summary>Whether the dtype is a 16-bit float, stored narrow and computed in float32.</summary>
    public static bool IsHalf(this DType dtype) => dtype is DType.Float16 or DType.BFloat16;

    /// <summary>Whether the dtype holds signed integers (Int32, Int64); Bool is not integral, as in PyTorch.</summary>
    public static bool IsIntegral(this DType dtype) => dtype is DType.Int32 or DType.Int64;

    /// <summary>The name PyTorch prints for this dtype (float32, float64, int64, int32, bool).</summary>
    public static string DisplayName(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int64 => "int64",
        DType.Bool => "bool",
        DType.Int32 => "int32",
        DType.Float16 => "float16",
        DType.BFloat16 => "bfloat16",
        _ => dtype.ToString(),
    };

    /// <summary>The dtype of a binary op's result; see <see cref="DTypes.Promote(DType, DType)"/>.</summary>
    public static DType Promote(DType a, DType b) => DTypes.Promote(a, b);

    internal static DType Of<T>() =>
        typeof(T) == typeof(float) ? DType.Float32 :
        typeof(T) == typeof(double) ? DType.Float64 :
        typeof(T) == typeof(long) ? DType.Int64 :
        typeof(T) == typeof(int) ? DType.Int32 :
        typeof(T) == typeof(bool) ? DType.Bool :
        typeof(T) == typeof(Half) ? DType.Float16 :
        typeof(T) == typeof(BFloat16) ? DType.BFloat16 :
        throw new NotSupportedException($"No tensor dtype holds {typeof(T).Name}; use float, double, long, int, bool, Half or BFloat16.");
}
