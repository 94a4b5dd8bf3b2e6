namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void NormalizeRows(StridedView x, double eps, StridedView normalized, StridedView mean, StridedView variance, StridedView inverseStd)
    {
        const string op = "NormalizeRows";
        CheckSameShape(op, x, normalized);
        CheckSameDType(op, x, normalized);
        CheckSameDType(op, x, mean);
        CheckSameDType(op, x, variance);
        CheckSameDType(op, x, inverseStd);
        if (!x.IsContiguous || !normalized.IsContiguous || !mean.IsContiguous || !variance.IsContiguous || !inverseStd.IsContiguous)
            throw new ArgumentException($"{op}: the operands must be contiguous.");
        int rows = mean.NumElements;
        if (rows == 0 || x.NumElements == 0) return;
        if (variance.NumElements != rows || inverseStd.NumElements != rows || x.NumElements % rows != 0)
            throw new ShapeMismatchException(op, $"statistics of {rows} rows do not match the input {Shape.Format(x.Shape)}");
        switch (x.DType)
        {
            case DType.Float32: NormalizeRowsTyped<float>(x, eps, normalized, mean, variance, inverseStd, rows); break;
            case DType.Float64: NormalizeRowsTyped<double>(x, eps, normalized, mean, variance, inverseStd, rows); break;
            default: throw Unsupported(op, x.DType);
        }
    }

    private static void NormalizeRowsTyped<T>(in StridedView x, double eps, in StridedView normalized, in StridedView mean,
        in StridedView variance, in StridedView inverseStd, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.NumElements / rows;
        var body = new NormalizeRowsBody<T>(Data<T>(x.Storage), x.Offset, Data<T>(normalized.Storage), normalized.Offset,
            Data<T>(mean.Storage), mean.Offset, Data<T>(variance.Storage), variance.Offset, Data<T>(inverseStd.Storage), inverseStd.Offset,
            n, T.CreateTruncating(eps));
        // Each row is computed by one thread in one order: the split cannot change a result.
        CpuParallel.For(rows, ref body, grain: Math.Max(1, 8192 / n));
    }

    private readonly struct NormalizeRowsBody<T>(T[] x, int xOffset, T[] y, int yOffset, T[] mean, int meanOffset, T[] variance,
        int varianceOffset, T[] inverseStd, int inverseStdOffset, int n, T eps) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Execute(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                var input = x.AsSpan(xOffset + r * n, n);
                var output = y.AsSpan(yOffset + r * n, n);
                var sum = new FixedOrderSum();
                sum.Add<T>(input);
                T mu = T.CreateTruncating(sum.Total / n);
                // The centred values, then their squares in the output row (overwritten by x̂ below).
                TensorPrimitives.Subtract(input, mu, output);
                var squares = new FixedOrderSum();
                squares.AddProducts<T>(output, output);
                T sigma2 = T.CreateTruncating(squares.Total / n);
                T rStd = T.One / T.Sqrt(sigma2 + eps);
                TensorPrimitives.Multiply(output, rStd, output);
                mean[meanOffset + r] = mu;
                variance[varianceOffset + r] = sigma2;
                inverseStd[inverseStdOffset + r] = rStd;
            }
        }
    }

    public void NormalizeRowsBackward(StridedView grad, StridedView normalized, StridedView inverseStd, StridedView gradInput)
    {
        const string op = "NormalizeRowsBackward";
        CheckSameShape(op, grad, normalized);
        CheckSameShape(op, grad, gradInput);
        CheckSameDType(op, grad, normalized);
        CheckSameDType(op, grad, inverseStd);
        CheckSameDType(op, grad, gradInput);
        if (!grad.IsContiguous || !normalized.IsContiguous || !inverseStd.IsContiguous || !gradInput.IsContiguous)
            throw new ArgumentException($"{op}: the operands must be contiguous.");
        int rows = inverseStd.NumElements;
        if (rows == 0 || grad.NumElements == 0) return;
        if (grad.NumElements % rows != 0)
            throw new ShapeMismatchException(op, $"{rows} rows do not divide the gradient {Shape.Format(grad.Shape)}");
        switch (grad.DType)
        {
            case DType.Float32: NormalizeRowsBackwardTyped<float>(grad, normalized, inverseStd, gradInput, rows); break;
            case DType.Float64: NormalizeRowsBackwardTyped<double>(grad, normalized, inverseStd, gradInput, rows); break;
            default: throw Unsupported(op, grad.DType);
        }
    }

    private static void NormalizeRowsBackwardTyped<T>(in StridedView grad, in StridedView normalized, in StridedView inverseStd,
        in StridedView gradInput, int rows) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = grad.NumElements / rows;
        var body = new NormalizeRowsBackwardBody<T>(Data<T>(grad.Storage), grad.Offset, Data<T>(normalized.Storage), normalized.Offset,
            Data<T>(inverseStd.Storage), inverseStd.Offset, Data<T>(gradInput.Storage), gradInput.Offset, n);
        CpuParallel.For(rows, ref body, grain: Math.Max(1, 8192 / n));
    }

    private readonly struct NormalizeRowsBackwardBody<T>(T[] g, int gOffset, T[] xHat, int xHatOffset, T[] inverseStd, int inverseStdOffset,
        T[] dx, int dxOffset, int n) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Execute(int start, int end)
        {
            for (int r = start; r < end; r++)
            {
                var gradient = g.AsSpan(gOffset + r * n, n);
                var normalized = xHat.AsSpan(xHatOffset + r * n, n);
                var result = dx.AsSpan(dxOffset + r * n, n);
                var gradSum = new FixedOrderSum();
                var projectionSum = new FixedOrderSum();
                gradSum.Add<T>(gradient);
                projectionSum.AddProducts<T>(gradient, normalized);
                T gradMean = T.CreateTruncating(gradSum.Total / n);
                T projection = T.CreateTruncating(projectionSum.Total / n);
                T rStd = inverseStd[inverseStdOffset + r];
                // r·(g − mean(g) − x̂·projection), written so that result may alias g; lanes and tail round alike.
                int j = 0;
                if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
                {
                    Vector<T> vMean = new(gradMean), vProjection = new(projection), vStd = new(rStd);
                    for (; j <= n - Vector<T>.Count; j += Vector<T>.Count)
                        (vStd * (new Vector<T>(gradient[j..]) - vMean - new Vector<T>(normalized[j..]) * vProjection)).CopyTo(result[j..]);
                }
                for (; j < n; j++) result[j] = rStd * (gradient[j] - gradMean - normalized[j] * projection);
            }
        }
    }
}
