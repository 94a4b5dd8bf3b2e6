namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void AttentionSoftmax(StridedView x, double scale, bool causal, StridedView y)
    {
        CheckSameShape("AttentionSoftmax", x, y);
        CheckSameDType("AttentionSoftmax", x, y);
        if (x.Rank < 2) throw new ShapeMismatchException("AttentionSoftmax", $"scores must be [..., Lq, Lk]; got {Shape.Format(x.Shape)}");
        if (x.NumElements == 0) return;
        if (!y.IsContiguous) throw new ArgumentException("AttentionSoftmax: the output must be contiguous.");
        switch (x.DType)
        {
            case DType.Float32: AttentionSoftmaxTyped<float>(x, scale, causal, y); break;
            case DType.Float64: AttentionSoftmaxTyped<double>(x, scale, causal, y); break;
            default: throw Unsupported("AttentionSoftmax", x.DType);
        }
    }

    private static void AttentionSoftmaxTyped<T>(in StridedView x, double scale, bool causal, in StridedView y)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int keys = x.Shape[^1];
        var body = new AttentionRows<T>(Data<T>(x.Storage), StridedLoop.Offsets(SqueezeToOne(x, x.Rank - 1)), x.Strides[^1],
            Data<T>(y.Storage), y.Offset, keys, x.Shape[^2], T.CreateTruncating(scale), causal);
        // Rows are independent and each is computed by one thread in one order: the split cannot change a result.
        CpuParallel.For(x.NumElements / keys, ref body, grain: Math.Max(1, 4096 / keys));
    }

    private readonly struct AttentionRows<T>(T[] x, int[] xRows, int xStride, T[] y, int yOffset, int keys, int queries, T scale, bool causal)
        : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Execute(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                var row = y.AsSpan(yOffset + r * keys, keys);
                // Top-left aligned causal mask: query i sees keys 0..i.
                int visible = causal ? Math.Min(r % queries + 1, keys) : keys;
                var live = row[..visible];
                int xBase = xRows[r];
                if (xStride == 1) x.AsSpan(xBase, visible).CopyTo(live);
                else for (int j = 0; j < visible; j++) live[j] = x[xBase + j * xStride];
                row[visible..].Clear();
                // scale > 0 keeps a masked −∞ at −∞.
                TensorPrimitives.Multiply(live, scale, live);
                T max = TensorPrimitives.Max<T>(live);
                if (T.IsNegativeInfinity(max))
                {
                    // Every key is masked: the row attends to nothing and gives zeros (0/0 would be NaN).
                    live.Clear();
                    continue;
                }
                TensorPrimitives.Subtract(live, max, live);
                TensorPrimitives.Exp(live, live);
                var denominator = new FixedOrderSum();
                denominator.Add<T>(live);
                TensorPrimitives.Divide(live, T.CreateTruncating(denominator.Total), live);
            }
        }
    }

    public void AttentionSoftmaxBackward(StridedView p, StridedView dp, double scale, StridedView ds)
    {
        CheckSameShape("AttentionSoftmaxBackward", p, dp);
        CheckSameShape("AttentionSoftmaxBackward", p, ds);
        CheckSameDType("AttentionSoftmaxBackward", p, dp);
        CheckSameDType("AttentionSoftmaxBackward", p, ds);
        if (p.NumElements == 0) return;
        if (!p.IsContiguous || !dp.IsContiguous || !ds.IsContiguous)
            throw new ArgumentException("AttentionSoftmaxBackward: the operands must be contiguous.");
        switch (p.DType)
        {
            case DType.Float32: SoftmaxBackwardTyped<float>(p, dp, scale, ds); break;
            case DType.Float64: SoftmaxBackwardTyped<double>(p, dp, scale, ds); break;
            default: throw Unsupported("AttentionSoftmaxBackward", p.DType);
        }
    }

    private static void SoftmaxBackwardTyped<T>(in StridedView p, in StridedView dp, double scale, in StridedView ds)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int keys = p.Shape[^1];
        var body = new SoftmaxBackwardRows<T>(Data<T>(p.Storage), p.Offset, Data<T>(dp.Storage), dp.Offset, Data<T>(ds.Storage), ds.Offset,
            keys, T.CreateTruncating(scale));
        CpuParallel.For(p.NumElements / keys, ref body, grain: Math.Max(1, 4096 / keys));
    }

    private readonly struct SoftmaxBackwardRows<T>(T[] p, int pOffset, T[] dp, int dpOffset, T[] ds, int dsOffset, int keys, T scale)
        : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Execute(int start, int end)
        {
            var products = new T[keys];
            for (int r = start; r < end; r++)
            {
                var probabilities = p.AsSpan(pOffset + r * keys, keys);
                var gradient = dp.AsSpan(dpOffset + r * keys, keys);
                var result = ds.AsSpan(dsOffset + r * keys, keys);
                TensorPrimitives.Multiply<T>(gradient, probabilities, products);
                var dot = new FixedOrderSum();
                dot.Add<T>(products);
                TensorPrimitives.Subtract(gradient, T.CreateTruncating(dot.Total), result);
                TensorPrimitives.Multiply<T>(result, probabilities, result);
                if (scale != T.One) TensorPrimitives.Multiply(result, scale, result);
            }
        }
    }
}
