namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
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
}
