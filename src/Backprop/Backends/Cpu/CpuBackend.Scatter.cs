namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void ScatterReduce(StridedView y, int dim, StridedView index, StridedView source, ScatterReduction reduction, bool includeSelf)
    {
        CheckIndexFits("ScatterReduce", y, dim, index);
        CheckSameDType("ScatterReduce", y, source);
        for (int d = 0; d < index.Rank; d++)
            if (index.Shape[d] > source.Shape[d])
                throw new ShapeMismatchException("ScatterReduce", $"index {Shape.Format(index.Shape)} is larger than the source {Shape.Format(source.Shape)}");
        switch (y.DType)
        {
            case DType.Float32: RunScatterReduce<float>(y, dim, index, source, reduction, includeSelf); break;
            case DType.Float64: RunScatterReduce<double>(y, dim, index, source, reduction, includeSelf); break;
            case DType.Int64: RunScatterReduce<long>(y, dim, index, source, reduction, includeSelf); break;
            default: throw Unsupported("ScatterReduce", y.DType);
        }
    }

    private static void RunScatterReduce<T>(in StridedView y, int dim, in StridedView index, in StridedView source,
        ScatterReduction reduction, bool includeSelf)
        where T : unmanaged, INumber<T>
    {
        var data = Data<T>(y.Storage);
        // How many source values each storage element received: marks first arrivals and divides the means.
        var counts = new int[data.Length];
        var baseStrides = (int[])y.Strides.Clone();
        baseStrides[dim] = 0;
        var bases = new StridedView(y.Storage, index.Shape, baseStrides, y.Offset, false);
        var kernel = new ScatterReduceRows<T>(data, Data<long>(index.Storage), Data<T>(source.Storage), counts,
            y.Strides[dim], y.Shape[dim], reduction, includeSelf);
        StridedLoop.Run(ref kernel, index.Shape, bases, index, source);
        if (reduction != ScatterReduction.Mean) return;
        T self = includeSelf ? T.One : T.Zero;
        for (int i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0) continue;
            T divisor = T.CreateTruncating(counts[i]) + self, quotient = data[i] / divisor;
            // An integer mean rounds down, as PyTorch's floor division does (C# division truncates towards 0).
            if (typeof(T) == typeof(long) && quotient * divisor != data[i] && data[i] < T.Zero) quotient -= T.One;
            data[i] = quotient;
        }
    }

    private readonly struct ScatterReduceRows<T>(T[] data, long[] index, T[] source, int[] counts, int stride, int bound,
        ScatterReduction reduction, bool includeSelf) : IRowKernel
        where T : unmanaged, INumber<T>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            for (int i = 0; i < n; i++)
            {
                long at = index[o1 + i * s1];
                if ((ulong)at >= (ulong)bound)
                    throw new IndexOutOfRangeException($"ScatterReduce: index {at} is out of range for a dimension of size {bound}.");
                int offset = o0 + i * s0 + (int)at * stride;
                T value = source[o2 + i * s2];
                bool first = counts[offset]++ == 0;
                if (reduction == ScatterReduction.Replace || (first && !includeSelf))
                {
                    data[offset] = value;
                    continue;
                }
                T current = data[offset];
                data[offset] = reduction switch
                {
                    ScatterReduction.Sum or ScatterReduction.Mean => current + value,
                    ScatterReduction.Prod => current * value,
                    // A NaN on either side wins: current ≥ NaN and NaN ≥ value are both false.
                    ScatterReduction.Amax => T.IsNaN(current) || current >= value ? current : value,
                    _ => T.IsNaN(current) || current <= value ? current : value,
                };
            }
        }
    }
}
