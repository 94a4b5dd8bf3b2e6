namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void Unary(UnaryOp op, StridedView x, StridedView y, double arg0 = 0, double arg1 = 0)
    {
        if (x.DType.IsHalf())
        {
            UnaryInFloat32(op, x, y, arg0, arg1);
            return;
        }
        CheckSameShape(op, x, y);
        CheckSameDType(op, x, y);
        if (y.NumElements == 0) return; // some TensorPrimitives functions reject empty spans
        switch (x.DType)
        {
            case DType.Float32: UnaryFloat<float>(op, x, y, arg0, arg1); break;
            case DType.Float64: UnaryFloat<double>(op, x, y, arg0, arg1); break;
            case DType.Int64: UnaryInteger<long>(op, x, y); break;
            case DType.Int32: UnaryInteger<int>(op, x, y); break;
            default: throw Unsupported(op.ToString(), x.DType);
        }
    }

    private static void UnaryFloat<T>(UnaryOp op, in StridedView x, in StridedView y, double arg0, double arg1)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T a0 = T.CreateTruncating(arg0), a1 = T.CreateTruncating(arg1);
        switch (op)
        {
            case UnaryOp.Neg: RunUnary<T, FloatFunctions<T>.Neg>(default, x, y); break;
            case UnaryOp.Exp: RunUnary<T, FloatFunctions<T>.Exp>(default, x, y, transcendental: true); break;
            case UnaryOp.Log: RunUnary<T, FloatFunctions<T>.Log>(default, x, y, transcendental: true); break;
            case UnaryOp.Sqrt: RunUnary<T, FloatFunctions<T>.Sqrt>(default, x, y); break;
            case UnaryOp.Abs: RunUnary<T, FloatFunctions<T>.Abs>(default, x, y); break;
            case UnaryOp.Sign: RunUnary<T, FloatFunctions<T>.Sign>(default, x, y); break;
            case UnaryOp.Reciprocal: RunUnary<T, FloatFunctions<T>.Reciprocal>(default, x, y); break;
            case UnaryOp.Square: RunUnary<T, FloatFunctions<T>.Square>(default, x, y); break;
            case UnaryOp.Sin: RunUnary<T, FloatFunctions<T>.Sin>(default, x, y, transcendental: true); break;
            case UnaryOp.Cos: RunUnary<T, FloatFunctions<T>.Cos>(default, x, y, transcendental: true); break;
            case UnaryOp.Tanh: RunUnary<T, FloatFunctions<T>.Tanh>(default, x, y, transcendental: true); break;
            case UnaryOp.Sigmoid: RunUnary<T, FloatFunctions<T>.Sigmoid>(default, x, y, transcendental: true); break;
            case UnaryOp.Relu: RunUnary<T, FloatFunctions<T>.Relu>(default, x, y); break;
            case UnaryOp.Step: RunUnary<T, FloatFunctions<T>.Step>(default, x, y); break;
            case UnaryOp.Softplus: RunUnary<T, FloatFunctions<T>.Softplus>(default, x, y, transcendental: true); break;
            case UnaryOp.Gelu: RunUnary<T, FloatFunctions<T>.Gelu>(default, x, y, transcendental: true); break;
            case UnaryOp.Erf: RunUnary<T, FloatFunctions<T>.Erf>(default, x, y, transcendental: true); break;
            case UnaryOp.Floor: RunUnary<T, FloatFunctions<T>.Floor>(default, x, y); break;
            case UnaryOp.Ceil: RunUnary<T, FloatFunctions<T>.Ceil>(default, x, y); break;
            case UnaryOp.Round: RunUnary<T, FloatFunctions<T>.Round>(default, x, y); break;
            case UnaryOp.Log1p: RunUnary<T, FloatFunctions<T>.Log1p>(default, x, y, transcendental: true); break;
            case UnaryOp.Expm1: RunUnary<T, FloatFunctions<T>.Expm1>(default, x, y, transcendental: true); break;
            case UnaryOp.LeakyRelu: RunUnary<T, FloatFunctions<T>.LeakyRelu>(new(a0), x, y); break;
            case UnaryOp.Elu: RunUnary<T, FloatFunctions<T>.Elu>(new(a0), x, y, transcendental: true); break;
            case UnaryOp.Clamp: RunUnary<T, FloatFunctions<T>.Clamp>(new(a0, a1), x, y); break;
            default: UnaryMathFloat<T>(op, x, y); break;
        }
    }

    private static void UnaryInteger<T>(UnaryOp op, in StridedView x, in StridedView y) where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
    {
        switch (op)
        {
            case UnaryOp.Neg: RunUnary<T, SignedIntegerFunctions<T>.Neg>(default, x, y); break;
            case UnaryOp.Abs: RunUnary<T, SignedIntegerFunctions<T>.Abs>(default, x, y); break;
            case UnaryOp.Sign: RunUnary<T, SignedIntegerFunctions<T>.Sign>(default, x, y); break;
            default: throw new NotSupportedException($"{op} needs a floating-point tensor; this one is {x.DType.DisplayName()}. Convert it with .To(DType.Float32) first.");
        }
    }

    private static void RunUnary<T, TF>(TF f, in StridedView x, in StridedView y, bool transcendental = false)
        where T : unmanaged where TF : struct, IUnaryFunction<T>
    {
        if (x.IsContiguous && y.IsContiguous)
        {
            int n = x.NumElements;
            if (transcendental && n >= ParallelTranscendentalMin)
            {
                var chunks = new UnaryChunks<T, TF>(f, Data<T>(x.Storage), x.Offset, Data<T>(y.Storage), y.Offset);
                CpuParallel.For(n, ref chunks, ParallelTranscendentalMin / 4, chunksPerThread: 4);
                return;
            }
            // Large memory-bound runs go to the walk below, which splits them across the cores.
            if (n < ParallelStreamMin)
            {
                f.Invoke(Span<T>(x), Span<T>(y));
                return;
            }
        }
        StridedLoop.RunElementwise(new UnaryRows<T, TF>(f, Data<T>(y.Storage), Data<T>(x.Storage)), y.Shape, y, x, ParallelStreamMin);
    }

    /// <summary>
    /// Contiguous runs of a transcendental function at least this long are split across threads (at least half
    /// of it each). Measured on 2 Zen 4 cores: exp and tanh run ~2× faster split from 16K elements up (memory-bound
    /// functions wait for <see cref="ParallelStreamMin"/>).
    /// </summary>
    internal const int ParallelTranscendentalMin = 1 << 14;

    private readonly struct UnaryChunks<T, TF>(TF f, T[] x, int xOffset, T[] y, int yOffset) : IParallelBody
        where T : unmanaged where TF : struct, IUnaryFunction<T>
    {
        public void Execute(int start, int end) =>
            f.Invoke(x.AsSpan(xOffset + start, end - start), y.AsSpan(yOffset + start, end - start));
    }

    private readonly struct UnaryRows<T, TF>(TF f, T[] y, T[] x) : IRowKernel
        where T : unmanaged where TF : struct, IUnaryFunction<T>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            if (s0 == 1 && s1 == 1)
            {
                f.Invoke(x.AsSpan(o1, n), y.AsSpan(o0, n));
                return;
            }
            for (int i = 0; i < n; i++) y[o0 + i * s0] = f.Invoke(x[o1 + i * s1]);
        }
    }

    public void Binary(BinaryOp op, StridedView a, StridedView b, StridedView y)
    {
        if (a.DType.IsHalf())
        {
            BinaryInFloat32(op, a, b, y);
            return;
        }
        if (y.DType == DType.Bool && IsComparison(op))
        {
            CompareToBool(op, a, b, y);
            return;
        }
        CheckSameShape(op, a, y);
        CheckSameShape(op, b, y);
        CheckSameDType(op, a, y);
        CheckSameDType(op, b, y);
        if (y.NumElements == 0) return;
        switch (y.DType)
        {
            case DType.Float32: BinaryFloat<float>(op, a, b, y); break;
            case DType.Float64: BinaryFloat<double>(op, a, b, y); break;
            case DType.Int64: BinaryInt64(op, a, b, y); break;
            case DType.Int32: BinaryNumber<int>(op, a, b, y); break;
            case DType.Bool: BinaryBool(op, a, b, y); break;
            default: throw Unsupported(op.ToString(), y.DType);
        }
    }

    private static void BinaryFloat<T>(BinaryOp op, in StridedView a, in StridedView b, in StridedView y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (op)
        {
            case BinaryOp.Div: RunBinary<T, FloatBinaryFunctions<T>.Div>(default, a, b, y); break;
            case BinaryOp.Pow: RunBinary<T, FloatBinaryFunctions<T>.Pow>(default, a, b, y); break;
            case BinaryOp.BinaryCrossEntropy: RunBinary<T, FloatBinaryFunctions<T>.BinaryCrossEntropy>(default, a, b, y); break;
            case BinaryOp.BinaryCrossEntropyGrad: RunBinary<T, FloatBinaryFunctions<T>.BinaryCrossEntropyGrad>(default, a, b, y); break;
            case BinaryOp.ReluGrad: RunBinary<T, FloatBinaryFunctions<T>.ReluGrad>(default, a, b, y); break;
            case BinaryOp.SigmoidGrad: RunBinary<T, FloatBinaryFunctions<T>.SigmoidGrad>(default, a, b, y); break;
            case BinaryOp.TanhGrad: RunBinary<T, FloatBinaryFunctions<T>.TanhGrad>(default, a, b, y); break;
            case BinaryOp.Atan2 or BinaryOp.Hypot or BinaryOp.Remainder or BinaryOp.Fmod: BinaryMathFloat<T>(op, a, b, y); break;
            default: BinaryNumber<T>(op, a, b, y); break;
        }
    }

    private static void BinaryNumber<T>(BinaryOp op, in StridedView a, in StridedView b, in StridedView y)
        where T : unmanaged, INumber<T>
    {
        switch (op)
        {
            case BinaryOp.Add: RunBinary<T, NumberFunctions<T>.Add>(default, a, b, y); break;
            case BinaryOp.Sub: RunBinary<T, NumberFunctions<T>.Sub>(default, a, b, y); break;
            case BinaryOp.Mul: RunBinary<T, NumberFunctions<T>.Mul>(default, a, b, y); break;
            case BinaryOp.Maximum: RunBinary<T, NumberFunctions<T>.Maximum>(default, a, b, y); break;
            case BinaryOp.Minimum: RunBinary<T, NumberFunctions<T>.Minimum>(default, a, b, y); break;
            case BinaryOp.Eq or BinaryOp.Ne or BinaryOp.Lt or BinaryOp.Le or BinaryOp.Gt or BinaryOp.Ge:
                RunBinary<T, NumberFunctions<T>.Compare>(new(op), a, b, y); break;
            default: throw new NotSupportedException($"{op} needs floating-point tensors; these are {y.DType.DisplayName()}.");
        }
    }

    private static void RunBinary<T, TF>(TF f, in StridedView a, in StridedView b, in StridedView y)
        where T : unmanaged where TF : struct, IBinaryFunction<T>
    {
        if (y.IsContiguous)
        {
            // Contiguous operands, or one of them a broadcast scalar (every stride 0): the common cases, without the strided walk.
            // (Large contiguous operands go to the walk below, which splits them across the cores.)
            if (a.IsContiguous && b.IsContiguous && y.NumElements < ParallelStreamMin) { f.Invoke(Span<T>(a), Span<T>(b), Span<T>(y)); return; }
            if (a.IsContiguous && IsBroadcastScalar(b)) { f.Invoke(Span<T>(a), Data<T>(b.Storage)[b.Offset], Span<T>(y)); return; }
            if (IsBroadcastScalar(a) && b.IsContiguous) { f.Invoke(Data<T>(a.Storage)[a.Offset], Span<T>(b), Span<T>(y)); return; }
        }
        StridedLoop.RunElementwise(new BinaryRows<T, TF>(f, Data<T>(y.Storage), Data<T>(a.Storage), Data<T>(b.Storage)), y.Shape, y, a, b,
            ParallelStreamMin);
    }

    /// <summary>
    /// Contiguous runs of a memory-bound function (add, relu, its gradient) at least this long are split across
    /// threads too. Their operands mostly come from a GEMM that both cores wrote, half into each core's L2, so one
    /// core alone pulls half of them across. Measured on 2 Sapphire Rapids cores in interleaved runs: the attention
    /// step 3% faster, the LSTM step unchanged; below 64K elements the hand-off costs more than it saves.
    /// </summary>
    internal const int ParallelStreamMin = 1 << 16;

    private readonly struct BinaryRows<T, TF>(TF f, T[] y, T[] a, T[] b) : IRowKernel
        where T : unmanaged where TF : struct, IBinaryFunction<T>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            if (s0 == 1)
            {
                if (s1 == 1 && s2 == 1) { f.Invoke(a.AsSpan(o1, n), b.AsSpan(o2, n), y.AsSpan(o0, n)); return; }
                if (s1 == 1 && s2 == 0) { f.Invoke(a.AsSpan(o1, n), b[o2], y.AsSpan(o0, n)); return; }
                if (s1 == 0 && s2 == 1) { f.Invoke(a[o1], b.AsSpan(o2, n), y.AsSpan(o0, n)); return; }
            }
            for (int i = 0; i < n; i++) y[o0 + i * s0] = f.Invoke(a[o1 + i * s1], b[o2 + i * s2]);
        }
    }

    private static bool IsBroadcastScalar(in StridedView v)
    {
        foreach (var s in v.Strides) if (s != 0) return false;
        return true;
    }

    public void Axpy(double alpha, StridedView x, StridedView y)
    {
        CheckSameShape("Axpy", x, y);
        CheckSameDType("Axpy", x, y);
        if (y.NumElements == 0) return;
        if (y.DType.IsHalf())
        {
            AxpyInFloat32(alpha, x, y);
            return;
        }
        switch (y.DType)
        {
            case DType.Float32: AxpyTyped(x, (float)alpha, y); break;
            case DType.Float64: AxpyTyped(x, alpha, y); break;
            case DType.Int64: AxpyTyped(x, (long)alpha, y); break;
            case DType.Int32: AxpyTyped(x, (int)alpha, y); break;
            default: throw Unsupported("Axpy", y.DType);
        }
    }

    private static void AxpyTyped<T>(in StridedView x, T alpha, in StridedView y) where T : unmanaged, INumber<T>
    {
        if (x.IsContiguous && y.IsContiguous)
        {
            var target = Span<T>(y);
            TensorPrimitives.MultiplyAdd(Span<T>(x), alpha, target, target);
            return;
        }
        var kernel = new AxpyRows<T>(Data<T>(y.Storage), Data<T>(x.Storage), alpha);
        StridedLoop.Run(ref kernel, y.Shape, y, x);
    }

    private readonly struct AxpyRows<T>(T[] y, T[] x, T alpha) : IRowKernel where T : unmanaged, INumber<T>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            for (int i = 0; i < n; i++) y[o0 + i * s0] += alpha * x[o1 + i * s1];
        }
    }

    public void Where(StridedView condition, StridedView a, StridedView b, StridedView y)
    {
        CheckSameShape("Where", condition, y);
        CheckSameShape("Where", a, y);
        CheckSameShape("Where", b, y);
        CheckSameDType("Where", a, y);
        CheckSameDType("Where", b, y);
        switch (condition.DType)
        {
            case DType.Float32: WhereWith<float>(condition, a, b, y); break;
            case DType.Float64: WhereWith<double>(condition, a, b, y); break;
            case DType.Int64: WhereWith<long>(condition, a, b, y); break;
            case DType.Int32: WhereWith<int>(condition, a, b, y); break;
            case DType.Bool: WhereWith<bool>(condition, a, b, y); break;
            case DType.Float16 or DType.BFloat16: WhereWith<float>(Widened(condition), a, b, y); break;
            default: throw Unsupported("Where", condition.DType);
        }
    }

    private static void WhereWith<TC>(in StridedView condition, in StridedView a, in StridedView b, in StridedView y) where TC : unmanaged
    {
        switch (y.DType)
        {
            case DType.Float32: RunWhere<TC, float>(condition, a, b, y); break;
            case DType.Float64: RunWhere<TC, double>(condition, a, b, y); break;
            case DType.Int64: RunWhere<TC, long>(condition, a, b, y); break;
            case DType.Int32: RunWhere<TC, int>(condition, a, b, y); break;
            case DType.Bool: RunWhere<TC, bool>(condition, a, b, y); break;
            case DType.Float16: RunWhere<TC, Half>(condition, a, b, y); break;
            case DType.BFloat16: RunWhere<TC, BFloat16>(condition, a, b, y); break;
            default: throw Unsupported("Where", y.DType);
        }
    }

    private static void RunWhere<TC, T>(in StridedView condition, in StridedView a, in StridedView b, in StridedView y)
        where TC : unmanaged where T : unmanaged
    {
        var kernel = new WhereRows<TC, T>(Data<T>(y.Storage), Data<TC>(condition.Storage), Data<T>(a.Storage), Data<T>(b.Storage));
        StridedLoop.Run(ref kernel, y.Shape, y, condition, a, b);
    }

    // A condition of any dtype selects where it is nonzero (true, for Bool): TC is fixed per instantiation, so the
    // type tests fold away.
    private readonly struct WhereRows<TC, T>(T[] y, TC[] c, T[] a, T[] b) : IRowKernel
        where TC : unmanaged where T : unmanaged
    {
        private static bool IsSet(TC value) =>
            typeof(TC) == typeof(bool) ? (bool)(object)value :
            typeof(TC) == typeof(float) ? (float)(object)value != 0 :
            typeof(TC) == typeof(double) ? (double)(object)value != 0 :
            typeof(TC) == typeof(long) ? (long)(object)value != 0 :
            (int)(object)value != 0;

        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            for (int i = 0; i < n; i++)
                y[o0 + i * s0] = IsSet(c[o1 + i * s1]) ? a[o2 + i * s2] : b[o3 + i * s3];
        }
    }
}

// Integer overflow wraps (−int.MinValue is int.MinValue), as in PyTorch.
internal static class SignedIntegerFunctions<T> where T : unmanaged, IBinaryInteger<T>, ISignedNumber<T>
{
    public struct Neg : IUnaryFunction<T>
    {
        public T Invoke(T x) => -x;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => TensorPrimitives.Negate(x, y);
    }

    public struct Abs : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.IsNegative(x) ? -x : x;
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }

    public struct Sign : IUnaryFunction<T>
    {
        public T Invoke(T x) => T.CreateTruncating(T.Sign(x));
        public void Invoke(ReadOnlySpan<T> x, Span<T> y) => Loop.Unary(this, x, y);
    }
}
