using Backprop.Ops;

namespace Backprop;

public partial class Tensor
{
    public static Tensor operator +(Tensor a, Tensor b) => Add(a, b);
    public static Tensor operator +(Tensor a, double b) => Add(a, a.ScalarLike(b));
    public static Tensor operator +(double a, Tensor b) => Add(b.ScalarLike(a), b);
    public static Tensor operator -(Tensor a, Tensor b) => Sub(a, b);
    public static Tensor operator -(Tensor a, double b) => Sub(a, a.ScalarLike(b));
    public static Tensor operator -(double a, Tensor b) => Sub(b.ScalarLike(a), b);
    public static Tensor operator *(Tensor a, Tensor b) => Mul(a, b);
    public static Tensor operator *(Tensor a, double b) => Mul(a, a.ScalarLike(b));
    public static Tensor operator *(double a, Tensor b) => Mul(b.ScalarLike(a), b);
    public static Tensor operator /(Tensor a, Tensor b) => Div(a, b);
    public static Tensor operator /(Tensor a, double b) => Div(a, a.ScalarLike(b));
    public static Tensor operator /(double a, Tensor b) => Div(b.ScalarLike(a), b);
    public static Tensor operator -(Tensor a) => a.Neg();

    /// <summary>Element-wise comparisons give 1 where true and 0 where false, in the inputs' dtype, without gradient.</summary>
    public static Tensor operator >(Tensor a, Tensor b) => a.Gt(b);
    public static Tensor operator <(Tensor a, Tensor b) => a.Lt(b);
    public static Tensor operator >=(Tensor a, Tensor b) => a.Ge(b);
    public static Tensor operator <=(Tensor a, Tensor b) => a.Le(b);
    public static Tensor operator >(Tensor a, double b) => a.Gt(b);
    public static Tensor operator <(Tensor a, double b) => a.Lt(b);
    public static Tensor operator >=(Tensor a, double b) => a.Ge(b);
    public static Tensor operator <=(Tensor a, double b) => a.Le(b);

    [ThreadStatic] private static Dictionary<(long Bits, DType DType, Device Device), Tensor>? t_constants;

    /// <summary>
    /// A rank-0 constant in the dtype a binary op of this tensor with <paramref name="value"/> computes in
    /// (<see cref="DTypes.ResultType(DType, double)"/>: this tensor's dtype, Float32 for a fraction with an integer
    /// tensor, Int64 for a whole number with a Bool tensor), on this tensor's device. Constants are cached per thread and device: `x * 0.5` then costs no allocation for the 0.5.
    /// They are internal and never written to.
    /// </summary>
    internal Tensor ScalarLike(double value)
    {
        var dtype = DTypes.ResultType(DType, value);
        var cache = t_constants ??= new();
        var key = (BitConverter.DoubleToInt64Bits(value), dtype, Device);
        if (cache.TryGetValue(key, out var constant)) return constant;
        if (cache.Count >= 256) cache.Clear();
        return cache[key] = Scalar(value, dtype, Device);
    }

    private static readonly int[][] ZeroStrides = Enumerable.Range(0, 17).Select(r => new int[r]).ToArray();

    /// <summary>A rank-0 tensor that needs no gradient, seen with <paramref name="sizes"/> (every stride 0), without recording.</summary>
    private static Tensor SpreadScalar(Tensor scalar, int[] sizes) =>
        new(scalar.Storage, sizes, sizes.Length < ZeroStrides.Length ? ZeroStrides[sizes.Length] : new int[sizes.Length], scalar.Offset);

    /// <summary>
    /// Brings two operands to one dtype (<see cref="DTypes.ResultType(Tensor, Tensor)"/>, PyTorch's promotion) and one shape (NumPy broadcasting, by explicit Expand views,
    /// so each binary op sees equal shapes and broadcast gradients are summed back by Expand's backward).
    /// </summary>
    internal static (Tensor, Tensor) Broadcast(Tensor a, Tensor b, string op)
    {
        if (a.Device != b.Device)
            throw new ArgumentException($"{op}: operands are on different devices ({a.Device} and {b.Device}). Move one with .To(device).");
        if (a.DType != b.DType)
        {
            var dtype = DTypes.ResultType(a, b);
            a = a.To(dtype);
            b = b.To(dtype);
        }
        if (a.Sizes.AsSpan().SequenceEqual(b.Sizes)) return (a, b);
        if (b.Rank == 0 && !b.RequiresGrad && !ForwardAD.HasTangent(b)) return (a, SpreadScalar(b, a.Sizes));
        if (a.Rank == 0 && !a.RequiresGrad && !ForwardAD.HasTangent(a)) return (SpreadScalar(a, b.Sizes), b);
        var shape = Shape.Broadcast(a.Shape, b.Shape, op).Dims;
        return (a.ExpandTo(shape), b.ExpandTo(shape));
    }

    public static Tensor Add(Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Add");
        return AddOp.Apply(a, b);
    }

    public static Tensor Sub(Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Sub");
        return SubOp.Apply(a, b);
    }

    public static Tensor Mul(Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Mul");
        return MulOp.Apply(a, b);
    }

    public static Tensor Div(Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Div");
        if (!a.DType.IsFloatingPoint())
        {
            a = a.To(DType.Float32);
            b = b.To(DType.Float32);
        }
        return DivOp.Apply(a, b);
    }

    /// <summary>Element-wise aᵇ; gradients flow to both the base and the exponent.</summary>
    public static Tensor Pow(Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Pow");
        return PowOp.Apply(a, b);
    }

    /// <summary>Element-wise larger of a and b (the gradient goes to the larger; ties share it).</summary>
    public static Tensor Maximum(Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Maximum");
        return ExtremumPairOp.Apply(a, b, max: true);
    }

    /// <summary>Element-wise smaller of a and b (the gradient goes to the smaller; ties share it).</summary>
    public static Tensor Minimum(Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Minimum");
        return ExtremumPairOp.Apply(a, b, max: false);
    }

    /// <summary>condition ≠ 0 ? a : b, broadcasting all three; the condition gets no gradient.</summary>
    public static Tensor Where(Tensor condition, Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Where");
        if (condition.Device != a.Device) throw new ArgumentException($"Where: the condition is on {condition.Device} but the values are on {a.Device}.");
        if (!condition.Sizes.AsSpan().SequenceEqual(a.Sizes))
        {
            var shape = Shape.Broadcast(condition.Shape, a.Shape, "Where").Dims;
            condition = condition.ExpandTo(shape);
            a = a.ExpandTo(shape);
            b = b.ExpandTo(shape);
        }
        return WhereOp.Apply(condition, a, b);
    }

    public static Tensor Where(Tensor condition, Tensor a, double b) => Where(condition, a, a.ScalarLike(b));

    public static Tensor Where(Tensor condition, double a, Tensor b) => Where(condition, b.ScalarLike(a), b);

    /// <summary>A comparison in the operands' promoted dtype, as a Bool tensor (bool operands compare as 0 and 1).</summary>
    private Tensor Compare(BinaryOp op, Tensor other)
    {
        var (a, b) = Broadcast(this, other, op.ToString());
        if (a.DType == DType.Bool)
        {
            a = a.To(DType.Int32);
            b = b.To(DType.Int32);
        }
        var y = Empty(a.Sizes, DType.Bool, a.Backend);
        a.Backend.Binary(op, a.Strided, b.Strided, y.Strided);
        return y;
    }

    public Tensor Eq(Tensor other) => Compare(BinaryOp.Eq, other);
    public Tensor Ne(Tensor other) => Compare(BinaryOp.Ne, other);
    public Tensor Lt(Tensor other) => Compare(BinaryOp.Lt, other);
    public Tensor Le(Tensor other) => Compare(BinaryOp.Le, other);
    public Tensor Gt(Tensor other) => Compare(BinaryOp.Gt, other);
    public Tensor Ge(Tensor other) => Compare(BinaryOp.Ge, other);
    public Tensor Eq(double other) => Compare(BinaryOp.Eq, ScalarLike(other));
    public Tensor Ne(double other) => Compare(BinaryOp.Ne, ScalarLike(other));
    public Tensor Lt(double other) => Compare(BinaryOp.Lt, ScalarLike(other));
    public Tensor Le(double other) => Compare(BinaryOp.Le, ScalarLike(other));
    public Tensor Gt(double other) => Compare(BinaryOp.Gt, ScalarLike(other));
    public Tensor Ge(double other) => Compare(BinaryOp.Ge, ScalarLike(other));

    /// <summary>Whether two tensors have the same shape and every pair of elements is within atol + rtol·|other|.</summary>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8)
    {
        if (Shape != other.Shape) return false;
        var x = ToArray<double>();
        var y = other.ToArray<double>();
        for (int i = 0; i < x.Length; i++)
        {
            if (double.IsNaN(x[i]) || double.IsNaN(y[i])) return false;
            if (Math.Abs(x[i] - y[i]) > atol + rtol * Math.Abs(y[i])) return false;
        }
        return true;
    }
}
