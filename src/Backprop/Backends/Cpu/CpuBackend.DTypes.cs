namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    // Note [Half precision]: Float16 and BFloat16 are storage dtypes. A kernel on them widens its operands to float32,
    // runs the float32 kernel and rounds the result to the narrow dtype once, as PyTorch's CPU half kernels do.

    /// <summary>A contiguous float32 copy of a half-precision view.</summary>
    private static StridedView Widened(in StridedView view)
    {
        var wide = Scratch(view);
        Instance.Copy(view, wide);
        return wide;
    }

    /// <summary>A contiguous float32 buffer of a view's shape, outside the pool (it dies with the kernel call).</summary>
    private static StridedView Scratch(in StridedView like) =>
        StridedView.Contiguous(new CpuStorage<float>(new float[like.NumElements]), like.Shape);

    private static void UnaryInFloat32(UnaryOp op, in StridedView x, in StridedView y, double arg0, double arg1)
    {
        CheckSameShape(op, x, y);
        CheckSameDType(op, x, y);
        var wide = Scratch(y);
        Instance.Unary(op, Widened(x), wide, arg0, arg1);
        Instance.Copy(wide, y);
    }

    private static void BinaryInFloat32(BinaryOp op, in StridedView a, in StridedView b, in StridedView y)
    {
        CheckSameDType(op, a, b);
        if (y.DType == DType.Bool && IsComparison(op))
        {
            CompareToBool(op, Widened(a), Widened(b), y);
            return;
        }
        CheckSameDType(op, a, y);
        var wide = Scratch(y);
        Instance.Binary(op, Widened(a), Widened(b), wide);
        Instance.Copy(wide, y);
    }

    private static void MatMulInFloat32(in StridedView a, in StridedView b, in StridedView c, bool accumulate)
    {
        CheckSameDType("MatMul", a, c);
        CheckSameDType("MatMul", b, c);
        var wide = accumulate ? Widened(c) : Scratch(c);
        Instance.MatMul(Widened(a), Widened(b), wide, accumulate);
        Instance.Copy(wide, c);
    }

    private static void ReduceInFloat32(ReduceOp op, in StridedView x, in StridedView y, double divisor)
    {
        CheckSameDType(op, x, y);
        var wide = Scratch(y);
        Reduce(op, Widened(x), wide, divisor);
        Instance.Copy(wide, y);
    }

    private static void AxpyInFloat32(double alpha, in StridedView x, in StridedView y)
    {
        CheckSameDType("Axpy", x, y);
        var wide = Widened(y);
        Instance.Axpy(alpha, Widened(x), wide);
        Instance.Copy(wide, y);
    }
    private static bool IsComparison(BinaryOp op) => op is BinaryOp.Eq or BinaryOp.Ne or BinaryOp.Lt or BinaryOp.Le or BinaryOp.Gt or BinaryOp.Ge;

    /// <summary>A comparison of two operands of one dtype written as Bool (IEEE: NaN is unequal to everything).</summary>
    private static void CompareToBool(BinaryOp op, in StridedView a, in StridedView b, in StridedView y)
    {
        CheckSameShape(op, a, y);
        CheckSameShape(op, b, y);
        CheckSameDType(op, a, b);
        if (y.NumElements == 0) return;
        switch (a.DType)
        {
            case DType.Float32: RunCompare<float>(op, a, b, y); break;
            case DType.Float64: RunCompare<double>(op, a, b, y); break;
            case DType.Int64: RunCompare<long>(op, a, b, y); break;
            case DType.Int32: RunCompare<int>(op, a, b, y); break;
            default: throw Unsupported(op.ToString(), a.DType);
        }
    }

    private static void RunCompare<T>(BinaryOp op, in StridedView a, in StridedView b, in StridedView y) where T : unmanaged, INumber<T>
    {
        var kernel = new CompareRows<T>(op, Data<bool>(y.Storage), Data<T>(a.Storage), Data<T>(b.Storage));
        StridedLoop.Run(ref kernel, y.Shape, y, a, b);
    }

    private readonly struct CompareRows<T>(BinaryOp op, bool[] y, T[] a, T[] b) : IRowKernel where T : unmanaged, INumber<T>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            switch (op)
            {
                case BinaryOp.Eq: for (int i = 0; i < n; i++) y[o0 + i * s0] = a[o1 + i * s1] == b[o2 + i * s2]; break;
                case BinaryOp.Ne: for (int i = 0; i < n; i++) y[o0 + i * s0] = a[o1 + i * s1] != b[o2 + i * s2]; break;
                case BinaryOp.Lt: for (int i = 0; i < n; i++) y[o0 + i * s0] = a[o1 + i * s1] < b[o2 + i * s2]; break;
                case BinaryOp.Le: for (int i = 0; i < n; i++) y[o0 + i * s0] = a[o1 + i * s1] <= b[o2 + i * s2]; break;
                case BinaryOp.Gt: for (int i = 0; i < n; i++) y[o0 + i * s0] = a[o1 + i * s1] > b[o2 + i * s2]; break;
                default: for (int i = 0; i < n; i++) y[o0 + i * s0] = a[o1 + i * s1] >= b[o2 + i * s2]; break;
            }
        }
    }

    /// <summary>
    /// Bool arithmetic as PyTorch's: + and maximum are or, * and minimum are and; subtraction and the rest are refused.
    /// </summary>
    private static void BinaryBool(BinaryOp op, in StridedView a, in StridedView b, in StridedView y)
    {
        bool isOr = op is BinaryOp.Add or BinaryOp.Maximum;
        if (!isOr && op is not (BinaryOp.Mul or BinaryOp.Minimum)) throw Unsupported(op.ToString(), DType.Bool);
        var kernel = new BoolRows(isOr, Data<bool>(y.Storage), Data<bool>(a.Storage), Data<bool>(b.Storage));
        StridedLoop.Run(ref kernel, y.Shape, y, a, b);
    }

    private readonly struct BoolRows(bool isOr, bool[] y, bool[] a, bool[] b) : IRowKernel
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            if (isOr) for (int i = 0; i < n; i++) y[o0 + i * s0] = a[o1 + i * s1] | b[o2 + i * s2];
            else for (int i = 0; i < n; i++) y[o0 + i * s0] = a[o1 + i * s1] & b[o2 + i * s2];
        }
    }
}
