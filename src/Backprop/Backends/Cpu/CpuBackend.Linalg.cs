namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void MatMul(StridedView a, StridedView b, StridedView c, bool accumulate)
    {
        int rank = c.Rank;
        if (rank < 2 || a.Rank != rank || b.Rank != rank)
            throw new ShapeMismatchException("MatMul", $"kernel needs operands of equal rank ≥ 2; got {Shape.Format(a.Shape)}, {Shape.Format(b.Shape)} → {Shape.Format(c.Shape)}");
        int m = c.Shape[rank - 2], n = c.Shape[rank - 1], k = a.Shape[rank - 1];
        if (a.Shape[rank - 2] != m || b.Shape[rank - 2] != k || b.Shape[rank - 1] != n)
            throw new ShapeMismatchException("MatMul", $"cannot multiply {Shape.Format(a.Shape)} by {Shape.Format(b.Shape)} into {Shape.Format(c.Shape)}");
        CheckSameDType("MatMul", a, c);
        CheckSameDType("MatMul", b, c);

        int batch = 1;
        for (int d = 0; d < rank - 2; d++) batch *= c.Shape[d];
        if (batch == 0 || m == 0 || n == 0) return;
        if (c.DType.IsHalf())
        {
            MatMulInFloat32(a, b, c, accumulate);
            return;
        }
        switch (c.DType)
        {
            case DType.Float32: MatMulTyped<float>(a, b, c, m, n, k, batch, accumulate); break;
            case DType.Float64: MatMulTyped<double>(a, b, c, m, n, k, batch, accumulate); break;
            default: throw Unsupported("MatMul", c.DType);
        }
    }

    public void MatMulBias(StridedView a, StridedView b, StridedView bias, StridedView c)
    {
        if (a.Rank != 2 || b.Rank != 2 || c.Rank != 2 || bias.Rank != 1 || bias.Shape[0] != c.Shape[1]
            || a.Shape[0] != c.Shape[0] || a.Shape[1] != b.Shape[0] || b.Shape[1] != c.Shape[1])
            throw new ShapeMismatchException("MatMulBias", $"cannot multiply {Shape.Format(a.Shape)} by {Shape.Format(b.Shape)} plus bias {Shape.Format(bias.Shape)} into {Shape.Format(c.Shape)}");
        CheckSameDType("MatMulBias", a, c);
        CheckSameDType("MatMulBias", b, c);
        CheckSameDType("MatMulBias", bias, c);
        int m = c.Shape[0], n = c.Shape[1], k = a.Shape[1];
        bool unitBias = bias.Strides[0] == 1 || n == 1;
        switch (c.DType)
        {
            case DType.Float32 when unitBias:
                Gemm.Multiply(m, n, k, Data<float>(a.Storage), a.Offset, MatrixLayout.Of(a), Data<float>(b.Storage), b.Offset, MatrixLayout.Of(b),
                    Data<float>(c.Storage), c.Offset, MatrixLayout.Of(c), accumulate: false, GemmSettings.Default, Data<float>(bias.Storage), bias.Offset);
                break;
            case DType.Float64 when unitBias:
                Gemm.Multiply(m, n, k, Data<double>(a.Storage), a.Offset, MatrixLayout.Of(a), Data<double>(b.Storage), b.Offset, MatrixLayout.Of(b),
                    Data<double>(c.Storage), c.Offset, MatrixLayout.Of(c), accumulate: false, GemmSettings.Default, Data<double>(bias.Storage), bias.Offset);
                break;
            default:
                Copy(new StridedView(bias.Storage, c.Shape, [0, bias.Strides[0]], bias.Offset, false), c);
                MatMul(a, b, c, accumulate: true);
                break;
        }
    }

    /// <summary>Whether every batch item of c is its own matrix (no broadcast batch dim), so items can be written at once.</summary>
    private static bool DistinctOutputs(in StridedView c)
    {
        for (int d = 0; d < c.Rank - 2; d++)
            if (c.Strides[d] == 0 && c.Shape[d] > 1) return false;
        return true;
    }

    private static void MatMulTyped<T>(in StridedView a, in StridedView b, in StridedView c, int m, int n, int k, int batch, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (batch > 1 && CpuParallel.ThreadCount > 1 && 2L * m * n * k < (long)CpuParallel.ThreadCount * GemmSettings.DefaultMinFlopsPerThread
            && DistinctOutputs(c))
        {
            // Items too small to split, such as one attention head's [L, L]·[L, d]: run whole items on each core
            // instead of one after another on one. Each item is the same single-threaded product either way.
            var items = new BatchedGemm<T>(a, b, c, m, n, k, accumulate, threads: 1);
            int grain = (int)Math.Max(1, GemmSettings.DefaultMinFlopsPerThread / Math.Max(1, 2L * m * n * k));
            CpuParallel.For(batch, ref items, grain);
            return;
        }
        // One matrix, or larger items one after another, each split across the cores; a batch dim of stride 0
        // (broadcast) revisits the same matrix.
        new BatchedGemm<T>(a, b, c, m, n, k, accumulate, CpuParallel.ThreadCount).Execute(0, batch);
    }
}

/// <summary>Items [start, end) of a batched product, each a GEMM on at most <paramref name="threads"/> participants.</summary>
internal readonly struct BatchedGemm<T>(StridedView a, StridedView b, StridedView c, int m, int n, int k, bool accumulate, int threads)
    : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
{
    public void Execute(int start, int end)
    {
        T[] aData = CpuBackend.Data<T>(a.Storage), bData = CpuBackend.Data<T>(b.Storage), cData = CpuBackend.Data<T>(c.Storage);
        MatrixLayout aLayout = MatrixLayout.Of(a), bLayout = MatrixLayout.Of(b), cLayout = MatrixLayout.Of(c);
        var settings = GemmSettings.Default with { Threads = threads };
        int batchRank = c.Rank - 2;
        for (int item = start; item < end; item++)
        {
            int aBase = a.Offset, bBase = b.Offset, cBase = c.Offset;
            for (int d = batchRank - 1, rest = item; d >= 0; d--)
            {
                int index = rest % c.Shape[d];
                rest /= c.Shape[d];
                aBase += index * a.Strides[d]; bBase += index * b.Strides[d]; cBase += index * c.Strides[d];
            }
            Gemm.Multiply(m, n, k, aData, aBase, aLayout, bData, bBase, bLayout, cData, cBase, cLayout, accumulate, settings);
        }
    }
}

/// <summary>Row and column strides of a matrix view: element (i, j) is at offset + i·Row + j·Column.</summary>
internal readonly record struct MatrixLayout(int Row, int Column)
{
    public static MatrixLayout Of(in StridedView view) =>
        new(view.Strides[view.Rank - 2], view.Strides[view.Rank - 1]);
}
