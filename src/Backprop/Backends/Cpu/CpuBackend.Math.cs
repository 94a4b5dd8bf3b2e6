namespace Backprop.Backends.Cpu;

/// <summary>The element-wise math functions: trigonometric and hyperbolic, erfinv, trunc, atan2, hypot, remainder, lerp.</summary>
public sealed partial class CpuBackend
{
    private static void UnaryMathFloat<T>(UnaryOp op, in StridedView x, in StridedView y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case UnaryOp.Tan: RunUnary<T, MathFunctions<T>.Tan>(default, x, y, transcendental: true); break;
            case UnaryOp.Atan: RunUnary<T, MathFunctions<T>.Atan>(default, x, y, transcendental: true); break;
            case UnaryOp.Asin: RunUnary<T, MathFunctions<T>.Asin>(default, x, y, transcendental: true); break;
            case UnaryOp.Acos: RunUnary<T, MathFunctions<T>.Acos>(default, x, y, transcendental: true); break;
            case UnaryOp.Sinh: RunUnary<T, MathFunctions<T>.Sinh>(default, x, y, transcendental: true); break;
            case UnaryOp.Cosh: RunUnary<T, MathFunctions<T>.Cosh>(default, x, y, transcendental: true); break;
            case UnaryOp.Erfinv: RunUnary<T, MathFunctions<T>.Erfinv>(default, x, y, transcendental: true); break;
            case UnaryOp.Trunc: RunUnary<T, MathFunctions<T>.Trunc>(default, x, y); break;
            default: throw new NotSupportedException($"Unary op {op} is not implemented on the CPU.");
        }
    }

    private static void BinaryMathFloat<T>(BinaryOp op, in StridedView a, in StridedView b, in StridedView y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Atan2: RunBinary<T, MathFunctions<T>.Atan2>(default, a, b, y); break;
            case BinaryOp.Hypot: RunBinary<T, MathFunctions<T>.Hypot>(default, a, b, y); break;
            case BinaryOp.Remainder: RunBinary<T, MathFunctions<T>.Remainder>(default, a, b, y); break;
            case BinaryOp.Fmod: RunBinary<T, MathFunctions<T>.Fmod>(default, a, b, y); break;
            default: throw new NotSupportedException($"Binary op {op} is not implemented on the CPU.");
        }
    }

    private static void BinaryInt64(BinaryOp op, in StridedView a, in StridedView b, in StridedView y)
    {
        switch (op)
        {
            case BinaryOp.Remainder: RunBinary<long, Int64MathFunctions.Remainder>(default, a, b, y); break;
            case BinaryOp.Fmod: RunBinary<long, Int64MathFunctions.Fmod>(default, a, b, y); break;
            default: BinaryNumber<long>(op, a, b, y); break;
        }
    }

    public void Lerp(StridedView start, StridedView end, StridedView weight, StridedView y)
    {
        CheckSameShape("Lerp", start, y);
        CheckSameShape("Lerp", end, y);
        CheckSameShape("Lerp", weight, y);
        CheckSameDType("Lerp", start, y);
        CheckSameDType("Lerp", end, y);
        CheckSameDType("Lerp", weight, y);
        if (y.NumElements == 0) return;
        switch (y.DType)
        {
            case DType.Float32: RunLerp<float>(start, end, weight, y); break;
            case DType.Float64: RunLerp<double>(start, end, weight, y); break;
            default: throw new NotSupportedException($"Lerp needs floating-point tensors; these are {y.DType.DisplayName()}.");
        }
    }

    private static void RunLerp<T>(in StridedView start, in StridedView end, in StridedView weight, in StridedView y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var kernel = new LerpRows<T>(Data<T>(y.Storage), Data<T>(start.Storage), Data<T>(end.Storage), Data<T>(weight.Storage));
        StridedLoop.Run(ref kernel, y.Shape, y, start, end, weight);
    }

    private readonly struct LerpRows<T>(T[] y, T[] start, T[] end, T[] weight) : IRowKernel
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            for (int i = 0; i < n; i++)
                y[o0 + i * s0] = MathFunctions<T>.Lerp(start[o1 + i * s1], end[o2 + i * s2], weight[o3 + i * s3]);
        }
    }
}

internal static class MathFunctions<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Half = T.CreateTruncating(0.5);

    /// <summary>
    /// start + w·(end − start) for |w| &lt; ½, else end − (end − start)·(1 − w), as PyTorch's lerp: exact at both
    /// ends (w = 0 gives start, w = 1 gives end) and monotone in w.
    /// </summary>
    public static T Lerp(T start, T end, T weight) => T.Abs(weight) < Half
        ? start + weight * (end - start)
        : end - (end - start) * (T.One - weight);

    /// <summary>
    /// Math.Tan per element, in float64 and rounded once: TensorPrimitives.Tan gave other float32 bits with AVX2 off
    /// than on (4M inputs hashed; its Atan, Asin, Acos, Cosh, Atan2, Hypot and Truncate gave the same bits).
    /// </summary>
    public struct Tan : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.CreateTruncating(Math.Tan(double.CreateTruncating(x)));
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct Atan : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Atan(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Atan(x, y);
    }

    public struct Asin : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Asin(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Asin(x, y);
    }

    public struct Acos : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Acos(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Acos(x, y);
    }

    /// <summary>
    /// Math.Sinh per element, in float64: TensorPrimitives.Sinh evaluates (eˣ − e⁻ˣ)/2, which cancels near 0 (float32
    /// sinh(−0) came out −6e−8, sinh(1e−3) with 1e−4 relative error).
    /// </summary>
    public struct Sinh : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.CreateTruncating(Math.Sinh(double.CreateTruncating(x)));
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct Cosh : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Cosh(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Cosh(x, y);
    }

    /// <summary>Computed in float64 for both dtypes (see <see cref="SpecialFunctions.Erfinv"/>), then rounded once.</summary>
    public struct Erfinv : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.CreateTruncating(SpecialFunctions.Erfinv(double.CreateTruncating(x)));
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct Trunc : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Truncate(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Truncate(x, y);
    }

    /// <summary>atan2(a, b): a is the ordinate y, b the abscissa x, as torch.atan2(input, other).</summary>
    public struct Atan2 : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => T.Atan2(a, b);
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Atan2(a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Atan2(a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Atan2(a, b, y);
    }

    public struct Hypot : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => T.Hypot(a, b);
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Hypot(a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
    }

    /// <summary>
    /// PyTorch's remainder kernel: fmod(a, b), moved by b when it is non-zero and its sign differs from b's. fmod is
    /// exact, so the result is the exact remainder wherever it is representable; it is NaN for b = 0 or infinite a,
    /// and −5 mod +∞ is +∞ (−5 + ∞), as in PyTorch and Python.
    /// </summary>
    public struct Remainder : IBinaryFunction<T>
    {
        public T Invoke(T a, T b)
        {
            T mod = a % b;
            return mod != T.Zero && (b < T.Zero) != (mod < T.Zero) ? mod + b : mod;
        }

        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
    }

    /// <summary>C's fmod (the % of .NET floats): exact, with the sign of the dividend a.</summary>
    public struct Fmod : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => a % b;
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
    }
}

internal static class Int64MathFunctions
{
    private static DivideByZeroException ByZero(string op) =>
        new($"{op}: integer division by zero (an int64 divisor is 0). PyTorch raises ZeroDivisionError here too.");

    /// <summary>a mod b with the sign of b, as PyTorch's integer remainder; long.MinValue mod −1 is 0, not an overflow.</summary>
    public struct Remainder : IBinaryFunction<long>
    {
        public long Invoke(long a, long b)
        {
            if (b == 0) throw ByZero("Remainder");
            if (b == -1) return 0;
            long r = a % b;
            return r != 0 && (r < 0) != (b < 0) ? r + b : r;
        }

        public void Invoke(ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<long> y) => Loop.Binary(this, a, b, y);
        public void Invoke(ReadOnlySpan<long> a, long b, Span<long> y) => Loop.Binary(this, a, b, y);
        public void Invoke(long a, ReadOnlySpan<long> b, Span<long> y) => Loop.Binary(this, a, b, y);
    }

    /// <summary>C's a % b, with the sign of a.</summary>
    public struct Fmod : IBinaryFunction<long>
    {
        public long Invoke(long a, long b)
        {
            if (b == 0) throw ByZero("Fmod");
            return b == -1 ? 0 : a % b;
        }

        public void Invoke(ReadOnlySpan<long> a, ReadOnlySpan<long> b, Span<long> y) => Loop.Binary(this, a, b, y);
        public void Invoke(ReadOnlySpan<long> a, long b, Span<long> y) => Loop.Binary(this, a, b, y);
        public void Invoke(long a, ReadOnlySpan<long> b, Span<long> y) => Loop.Binary(this, a, b, y);
    }
}
