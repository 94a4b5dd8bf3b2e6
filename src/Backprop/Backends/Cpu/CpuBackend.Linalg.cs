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
        var batchShape = c.Shape[..(rank - 2)];
        var aBases = BatchOffsets(a, batchShape);
        var bBases = BatchOffsets(b, batchShape);
        var cBases = BatchOffsets(c, batchShape);
        var aLayout = MatrixLayout.Of(a);
        var bLayout = MatrixLayout.Of(b);
        var cLayout = MatrixLayout.Of(c);
        switch (c.DType)
        {
            case DType.Float32:
                for (int i = 0; i < batch; i++)
                    Gemm.Multiply(m, n, k, Data<float>(a.Storage), aBases[i], aLayout, Data<float>(b.Storage), bBases[i], bLayout,
                        Data<float>(c.Storage), cBases[i], cLayout, accumulate);
                break;
            case DType.Float64:
                for (int i = 0; i < batch; i++)
                    Gemm.Multiply(m, n, k, Data<double>(a.Storage), aBases[i], aLayout, Data<double>(b.Storage), bBases[i], bLayout,
                        Data<double>(c.Storage), cBases[i], cLayout, accumulate);
                break;
            default:
                throw new NotSupportedException("MatMul needs floating-point tensors.");
        }
    }

    /// <summary>The offset of each batch's matrix, in row-major order of the batch index.</summary>
    private static int[] BatchOffsets(in StridedView view, int[] batchShape)
    {
        if (batchShape.Length == 0) return [view.Offset];
        var batchView = new StridedView(view.Storage, batchShape, view.Strides[..batchShape.Length], view.Offset, false);
        return StridedLoop.Offsets(batchView);
    }
}

/// <summary>Row and column strides of a matrix view: element (i, j) is at offset + i·Row + j·Column.</summary>
internal readonly record struct MatrixLayout(int Row, int Column)
{
    public static MatrixLayout Of(in StridedView view) =>
        new(view.Strides[view.Rank - 2], view.Strides[view.Rank - 1]);
}
