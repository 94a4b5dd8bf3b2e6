using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Backends.Cpu;

/// <summary>A unary function as a struct, so the generic driver is specialised and inlined per function.</summary>
internal interface IUnaryFunction<T>
{
    T Invoke(T x);

    /// <summary>The vectorised form over a contiguous row (TensorPrimitives where it has the function).</summary>
    void Invoke(ReadOnlySpan<T> x, Span<T> y);
}

/// <summary>A binary function with its span-span, span-scalar and scalar-span forms.</summary>
internal interface IBinaryFunction<T>
{
    T Invoke(T a, T b);
    void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y);
    void Invoke(ReadOnlySpan<T> a, T b, Span<T> y);
    void Invoke(T a, ReadOnlySpan<T> b, Span<T> y);
}

internal static class Loop
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Unary<T, TF>(TF f, ReadOnlySpan<T> x, Span<T> y) where TF : struct, IUnaryFunction<T>
    {
        for (int i = 0; i < x.Length; i++) y[i] = f.Invoke(x[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Binary<T, TF>(TF f, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where TF : struct, IBinaryFunction<T>
    {
        for (int i = 0; i < a.Length; i++) y[i] = f.Invoke(a[i], b[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Binary<T, TF>(TF f, ReadOnlySpan<T> a, T b, Span<T> y) where TF : struct, IBinaryFunction<T>
    {
        for (int i = 0; i < a.Length; i++) y[i] = f.Invoke(a[i], b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Binary<T, TF>(TF f, T a, ReadOnlySpan<T> b, Span<T> y) where TF : struct, IBinaryFunction<T>
    {
        for (int i = 0; i < b.Length; i++) y[i] = f.Invoke(a, b[i]);
    }
}

internal static class FloatFunctions<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private static readonly T Half = T.CreateTruncating(0.5);
    private static readonly T InvSqrt2 = T.CreateTruncating(0.70710678118654752440);

    public struct Neg : IUnaryFunction<T>
    {
        public T Invoke(T x) => -x;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Negate(x, y);
    }

    public struct Exp : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Exp(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Exp(x, y);
    }

    public struct Log : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Log(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Log(x, y);
    }

    public struct Sqrt : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Sqrt(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sqrt(x, y);
    }

    public struct Abs : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Abs(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Abs(x, y);
    }

    public struct Sign : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.IsNaN(x) ? x : x > T.Zero ? T.One : x < T.Zero ? -T.One : T.Zero;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct Reciprocal : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.One / x;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Reciprocal(x, y);
    }

    public struct Square : IUnaryFunction<T>
    {
        public T Invoke(T x) => x * x;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Multiply(x, x, y);
    }

    public struct Sin : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Sin(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sin(x, y);
    }

    public struct Cos : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Cos(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Cos(x, y);
    }

    public struct Tanh : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Tanh(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Tanh(x, y);
    }

    public struct Sigmoid : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.One / (T.One + T.Exp(-x));
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Sigmoid(x, y);
    }

    public struct Relu : IUnaryFunction<T>
    {
        // NaN stays NaN (as in PyTorch), so anomaly checks still see it.
        public T Invoke(T x) => x > T.Zero || T.IsNaN(x) ? x : T.Zero;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Max(x, T.Zero, y);
    }

    public struct Step : IUnaryFunction<T>
    {
        public T Invoke(T x) => x > T.Zero ? T.One : T.Zero;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    /// <summary>
    /// log(1 + eˣ) computed in float64 as max(x, 0) + log1p(e^−|x|), which neither overflows nor loses small values
    /// (softplus(−100) is 3.7e-44, not 0: the runtime's LogP1 is log(1 + x), which drops such tiny arguments).
    /// </summary>
    public struct Softplus : IUnaryFunction<T>
    {
        public T Invoke(T x)
        {
            double d = double.CreateTruncating(x);
            return T.CreateTruncating(Math.Max(d, 0) + SpecialFunctions.Log1p(Math.Exp(-Math.Abs(d))));
        }

        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct Erf : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.CreateTruncating(SpecialFunctions.Erf(double.CreateTruncating(x)));
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    /// <summary>The exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)); at −∞ its limit −0, where the product would be −∞·0 = NaN.</summary>
    public struct Gelu : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.IsNegativeInfinity(x) ? T.NegativeZero
            : Half * x * (T.One + T.CreateTruncating(SpecialFunctions.Erf(double.CreateTruncating(x * InvSqrt2))));
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct Floor : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Floor(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Floor(x, y);
    }

    public struct Ceil : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Ceiling(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Ceiling(x, y);
    }

    public struct Round : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.Round(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Round(x, y);
    }

    /// <summary>Computed in float64 by <see cref="SpecialFunctions.Log1p"/>: the BCL's LogP1 is log(x + 1), inaccurate for small x.</summary>
    public struct Log1p : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.CreateTruncating(SpecialFunctions.Log1p(double.CreateTruncating(x)));
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    /// <summary>Computed in float64 by <see cref="SpecialFunctions.Expm1"/>: the BCL's ExpM1 is exp(x) − 1, inaccurate for small x.</summary>
    public struct Expm1 : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.CreateTruncating(SpecialFunctions.Expm1(double.CreateTruncating(x)));
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct LeakyRelu(T slope) : IUnaryFunction<T>
    {
        public T Invoke(T x) => x > T.Zero ? x : slope * x;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct Elu(T alpha) : IUnaryFunction<T>
    {
        public T Invoke(T x) => x > T.Zero ? x : alpha * T.ExpM1(x);
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct Clamp(T min, T max) : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.IsNaN(x) ? x : x < min ? min : x > max ? max : x;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y)
        {
            TensorPrimitives.Max(x, min, y);
            TensorPrimitives.Min(y, max, y);
        }
    }
}

/// <summary>Binary functions for every numeric dtype (Int64 included).</summary>
internal static class NumberFunctions<T> where T : unmanaged, INumber<T>
{
    public struct Add : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => a + b;
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Add(a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(b, a, y);
    }

    public struct Sub : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => a - b;
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    }

    public struct Mul : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => a * b;
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(b, a, y);
    }

    public struct Maximum : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => T.Max(a, b);
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Max(a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(b, a, y);
    }

    public struct Minimum : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => T.Min(a, b);
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Min(a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(b, a, y);
    }

    public struct Compare(BinaryOp op) : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => op switch
        {
            BinaryOp.Eq => a == b,
            BinaryOp.Ne => a != b,
            BinaryOp.Lt => a < b,
            BinaryOp.Le => a <= b,
            BinaryOp.Gt => a > b,
            _ => a >= b,
        } ? T.One : T.Zero;

        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
    }
}

internal static class FloatBinaryFunctions<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public struct Div : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => a / b;
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    }

    public struct BinaryCrossEntropy : IBinaryFunction<T>
    {
        private static readonly T LogFloor = T.CreateTruncating(-100.0);

        public T Invoke(T p, T y)
        {
            if (!(p >= T.Zero && p <= T.One))
                throw new ArgumentException($"BinaryCrossEntropy: every input must be a probability in [0, 1]; found {p}. " +
                    "If you are passing logits, use BinaryCrossEntropyWithLogits.");
            T logP = T.Max(T.Log(p), LogFloor);
            T log1MinusP = T.Max(T.Log(T.One - p), LogFloor);
            return -(y * logP + (T.One - y) * log1MinusP);
        }

        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
    }

    public struct BinaryCrossEntropyGrad : IBinaryFunction<T>
    {
        private static readonly T Epsilon = T.CreateTruncating(1e-12);

        public T Invoke(T p, T y) => (p - y) / T.Max(p * (T.One - p), Epsilon);
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
    }

    /// <summary>g where the ReLU output y is not ≤ 0: zero at the kink, and g at a NaN output (as PyTorch's threshold_backward).</summary>
    public struct ReluGrad : IBinaryFunction<T>
    {
        public T Invoke(T g, T y) => y <= T.Zero ? T.Zero : g;

        // Selected with a vector mask: about half of a ReLU's outputs are zero at random, and the scalar loop's branch
        // mispredicted so often that this kernel cost more than the convolutions around it.
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y)
        {
            int i = 0;
            if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported && a.Length == b.Length && y.Length >= a.Length)
            {
                ref T g = ref MemoryMarshal.GetReference(a);
                ref T output = ref MemoryMarshal.GetReference(b);
                ref T result = ref MemoryMarshal.GetReference(y);
                for (; i <= a.Length - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var drop = Vector.LessThanOrEqual(Vector.LoadUnsafe(ref output, (nuint)i), Vector<T>.Zero);
                    Vector.ConditionalSelect(drop, Vector<T>.Zero, Vector.LoadUnsafe(ref g, (nuint)i)).StoreUnsafe(ref result, (nuint)i);
                }
            }
            Loop.Binary(this, a[i..], b[i..], y[i..]);
        }

        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
    }

    public struct SigmoidGrad : IBinaryFunction<T>
    {
        public T Invoke(T g, T y) => g * y * (T.One - y);
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
    }

    public struct TanhGrad : IBinaryFunction<T>
    {
        public T Invoke(T g, T y) => g * (T.One - y * y);
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => Loop.Binary(this, a, b, y);
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => Loop.Binary(this, a, b, y);
    }

    public struct Pow : IBinaryFunction<T>
    {
        public T Invoke(T a, T b) => T.Pow(a, b);
        public void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Pow(a, b, y);
        public void Invoke(ReadOnlySpan<T> a, T b, Span<T> y)
        {
            // Small integer powers are exact and far cheaper as products; gradients use x^(n−1) a lot.
            if (b == T.One) a.CopyTo(y);
            else if (b == T.CreateTruncating(2)) TensorPrimitives.Multiply(a, a, y);
            else TensorPrimitives.Pow(a, b, y);
        }
        public void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Pow(a, b, y);
    }
}
