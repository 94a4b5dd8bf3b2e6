namespace Backprop;

/// <summary>The element type of a tensor.</summary>
public enum DType
{
    /// <summary>32-bit IEEE float: the default for parameters and activations.</summary>
    Float32,
    /// <summary>64-bit IEEE float: used by gradient checking, where finite differences need the precision.</summary>
    Float64,
    /// <summary>64-bit signed integer: indices and class labels.</summary>
    Int64,
}

public static class DTypeExtensions
{
    public static int ElementSize(this DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Float64 => 8,
        DType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public static bool IsFloatingPoint(this DType dtype) => dtype is DType.Float32 or DType.Float64;

    /// <summary>The name PyTorch prints for this dtype (float32, float64, int64).</summary>
    public static string DisplayName(this DType dtype) => dtype switch
    {
        DType.Float32 => "float32",
        DType.Float64 => "float64",
        DType.Int64 => "int64",
        _ => dtype.ToString(),
    };

    /// <summary>The dtype of a binary op's result: the wider float wins; Int64 with Int64 stays Int64.</summary>
    public static DType Promote(DType a, DType b)
    {
        if (a == b) return a;
        if (a == DType.Float64 || b == DType.Float64) return DType.Float64;
        return DType.Float32;
    }

    internal static DType Of<T>() =>
        typeof(T) == typeof(float) ? DType.Float32 :
        typeof(T) == typeof(double) ? DType.Float64 :
        typeof(T) == typeof(long) ? DType.Int64 :
        throw new NotSupportedException($"No tensor dtype holds {typeof(T).Name}; use float, double or long.");
}
