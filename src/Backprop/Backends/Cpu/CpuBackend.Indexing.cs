namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void IndexSelect(StridedView x, int dim, StridedView index, StridedView y)
    {
        var indices = ReadIndices("IndexSelect", index, x.Shape[dim]);
        // Whole rows of contiguous tensors (a data loader's batch): one block copy each.
        if (dim == 0 && x.IsContiguous && y.IsContiguous && x.DType == y.DType && x.Rank == y.Rank
            && x.Storage is ICpuArrayStorage { Array: var source } && y.Storage is ICpuArrayStorage { Array: var target })
        {
            int row = x.Shape[0] == 0 ? 0 : x.NumElements / x.Shape[0];
            if (y.NumElements != row * indices.Length) throw new ShapeMismatchException("IndexSelect", $"cannot gather {indices.Length} rows of {Shape.Format(x.Shape)} into {Shape.Format(y.Shape)}");
            var rows = new RowGather(source, x.Offset, target, y.Offset, row, indices);
            // Rows scattered over a large dataset come from memory, not cache: two cores pull twice the bandwidth.
            if ((long)row * indices.Length * x.DType.ElementSize() < ParallelGatherMinBytes) rows.Execute(0, indices.Length);
            else CpuParallel.For(indices.Length, ref rows, grain: Math.Max(1, ParallelGatherMinBytes / 2 / Math.Max(row * x.DType.ElementSize(), 1)));
            return;
        }
        for (int i = 0; i < indices.Length; i++)
            Copy(Slice(x, dim, (int)indices[i]), Slice(y, dim, i));
    }

    private const int ParallelGatherMinBytes = 64 * 1024;

    private readonly struct RowGather(Array source, int sourceOffset, Array target, int targetOffset, int row, long[] indices) : IParallelBody
    {
        public void Execute(int start, int end)
        {
            for (int i = start; i < end; i++) Array.Copy(source, sourceOffset + indices[i] * row, target, targetOffset + (long)i * row, row);
        }
    }

    public void IndexAdd(StridedView y, int dim, StridedView index, StridedView source)
    {
        var indices = ReadIndices("IndexAdd", index, y.Shape[dim]);
        for (int i = 0; i < indices.Length; i++)
        {
            var target = Slice(y, dim, (int)indices[i]);
            Binary(BinaryOp.Add, target, Slice(source, dim, i), target);
        }
    }

    private long[] ReadIndices(string op, in StridedView index, int bound)
    {
        if (index.DType != DType.Int64) throw new ArgumentException($"{op}: indices must be int64; got {index.DType.DisplayName()}.");
        var indices = new long[index.NumElements];
        Download<long>(index, indices);
        foreach (var i in indices)
            if ((ulong)i >= (ulong)bound)
                throw new IndexOutOfRangeException($"{op}: index {i} is out of range for a dimension of size {bound}.");
        return indices;
    }

    /// <summary>The view's slice at position <paramref name="i"/> of <paramref name="dim"/>, keeping the dimension with size 1.</summary>
    private static StridedView Slice(in StridedView view, int dim, int i)
    {
        var shape = (int[])view.Shape.Clone();
        shape[dim] = 1;
        return new StridedView(view.Storage, shape, view.Strides, view.Offset + i * view.Strides[dim], false);
    }

    public void Gather(StridedView x, int dim, StridedView index, StridedView y)
    {
        CheckSameShape("Gather", index, y);
        CheckIndexFits("Gather", x, dim, index);
        switch (x.DType)
        {
            case DType.Float32: GatherScatter<float>(x, dim, index, y, scatter: false); break;
            case DType.Float64: GatherScatter<double>(x, dim, index, y, scatter: false); break;
            case DType.Int64: GatherScatter<long>(x, dim, index, y, scatter: false); break;
            case DType.Int32: GatherScatter<int>(x, dim, index, y, scatter: false); break;
            case DType.Float16: GatherScatter<Half>(x, dim, index, y, scatter: false); break;
            default: throw Unsupported("Gather", x.DType);
        }
    }

    public void ScatterAdd(StridedView y, int dim, StridedView index, StridedView source)
    {
        CheckSameShape("ScatterAdd", index, source);
        CheckIndexFits("ScatterAdd", y, dim, index);
        switch (y.DType)
        {
            case DType.Float32: GatherScatter<float>(y, dim, index, source, scatter: true); break;
            case DType.Float64: GatherScatter<double>(y, dim, index, source, scatter: true); break;
            case DType.Int64: GatherScatter<long>(y, dim, index, source, scatter: true); break;
            case DType.Int32: GatherScatter<int>(y, dim, index, source, scatter: true); break;
            default: throw Unsupported("ScatterAdd", y.DType);
        }
    }

    private static void CheckIndexFits(string op, in StridedView data, int dim, in StridedView index)
    {
        if (index.DType != DType.Int64) throw new ArgumentException($"{op}: indices must be int64; got {index.DType.DisplayName()}.");
        if (index.Rank != data.Rank)
            throw new ShapeMismatchException(op, $"index {Shape.Format(index.Shape)} must have the rank of the input {Shape.Format(data.Shape)}");
        for (int d = 0; d < data.Rank; d++)
            if (d != dim && index.Shape[d] > data.Shape[d])
                throw new ShapeMismatchException(op, $"index {Shape.Format(index.Shape)} is larger than the input {Shape.Format(data.Shape)} outside dimension {dim}");
    }

    /// <summary>
    /// Gather reads data[base(p) + index[p]·stride] into other[p]; scatter adds other[p] into that element of data.
    /// base(p) is data's offset at position p with the gathered dimension's stride set to 0.
    /// </summary>
    private static void GatherScatter<T>(in StridedView data, int dim, in StridedView index, in StridedView other, bool scatter)
        where T : unmanaged, INumber<T>
    {
        var baseStrides = (int[])data.Strides.Clone();
        baseStrides[dim] = 0;
        var bases = new StridedView(data.Storage, index.Shape, baseStrides, data.Offset, false);
        var kernel = new GatherRows<T>(Data<T>(data.Storage), Data<long>(index.Storage), Data<T>(other.Storage),
            data.Strides[dim], data.Shape[dim], scatter);
        StridedLoop.Run(ref kernel, index.Shape, bases, index, other);
    }

    private readonly struct GatherRows<T>(T[] data, long[] index, T[] other, int stride, int bound, bool scatter) : IRowKernel
        where T : unmanaged, INumber<T>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            for (int i = 0; i < n; i++)
            {
                long at = index[o1 + i * s1];
                if ((ulong)at >= (ulong)bound)
                    throw new IndexOutOfRangeException($"{(scatter ? "ScatterAdd" : "Gather")}: index {at} is out of range for a dimension of size {bound}.");
                int offset = o0 + i * s0 + (int)at * stride;
                if (scatter) data[offset] += other[o2 + i * s2];
                else other[o2 + i * s2] = data[offset];
            }
        }
    }
}
