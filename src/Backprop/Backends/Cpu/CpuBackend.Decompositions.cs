using System.Numerics;

namespace Backprop.Backends.Cpu;

// Note [Linear algebra] in docs/architecture.md: every decomposition runs in plain scalar float64 loops, one matrix
// at a time, so its bits do not depend on the SIMD width or the thread count.
public sealed partial class CpuBackend
{
    public int Solve(StridedView a, StridedView b, StridedView x)
    {
        var (n, k) = (a.Shape[^1], b.Shape[^1]);
        CheckDecomposition("Solve", a, x);
        CheckSameDType("Solve", b, x);
        var lu = new double[n * n];
        var rhs = new double[n * k];
        var pivots = new int[n];
        int failed = -1;
        var (aOffsets, bOffsets, xOffsets) = (MatrixOffsets(a, 2), MatrixOffsets(b, 2), MatrixOffsets(x, 2));
        for (int item = 0; item < aOffsets.Length; item++)
        {
            LoadMatrix(a, aOffsets[item], n, n, lu);
            LoadMatrix(b, bOffsets[item], n, k, rhs);
            if (Decompositions.LuFactor(lu, n, pivots) is null)
            {
                if (failed < 0) failed = item;
                rhs.AsSpan().Fill(double.NaN);
            }
            else Decompositions.LuSolve(lu, n, pivots, rhs, k);
            StoreMatrix(rhs, n, k, x, xOffsets[item]);
        }
        return failed;
    }

    public void Determinant(StridedView a, StridedView det)
    {
        int n = a.Shape[^1];
        CheckDecomposition("Det", a, det);
        var lu = new double[n * n];
        var pivots = new int[n];
        var (aOffsets, detOffsets) = (MatrixOffsets(a, 2), MatrixOffsets(det, 0));
        for (int item = 0; item < aOffsets.Length; item++)
        {
            LoadMatrix(a, aOffsets[item], n, n, lu);
            double value = Decompositions.LuFactor(lu, n, pivots) ?? 0;
            for (int i = 0; i < n && value != 0; i++) value *= lu[i * n + i];
            StoreScalar(value, det, detOffsets[item]);
        }
    }

    public void LogDeterminant(StridedView a, StridedView sign, StridedView logAbsDet)
    {
        int n = a.Shape[^1];
        CheckDecomposition("Slogdet", a, sign);
        CheckSameDType("Slogdet", sign, logAbsDet);
        var lu = new double[n * n];
        var pivots = new int[n];
        var (aOffsets, signOffsets, logOffsets) = (MatrixOffsets(a, 2), MatrixOffsets(sign, 0), MatrixOffsets(logAbsDet, 0));
        for (int item = 0; item < aOffsets.Length; item++)
        {
            LoadMatrix(a, aOffsets[item], n, n, lu);
            double signValue = Decompositions.LuFactor(lu, n, pivots) ?? 0, logValue = 0;
            for (int i = 0; i < n && signValue != 0; i++)
            {
                double pivot = lu[i * n + i];
                signValue *= Math.Sign(pivot);
                logValue += Math.Log(Math.Abs(pivot));
            }
            StoreScalar(signValue, sign, signOffsets[item]);
            StoreScalar(signValue == 0 ? double.NegativeInfinity : logValue, logAbsDet, logOffsets[item]);
        }
    }

    public int Cholesky(StridedView a, StridedView l)
    {
        int n = a.Shape[^1];
        CheckDecomposition("Cholesky", a, l);
        var m = new double[n * n];
        int failed = -1;
        var (aOffsets, lOffsets) = (MatrixOffsets(a, 2), MatrixOffsets(l, 2));
        for (int item = 0; item < aOffsets.Length; item++)
        {
            LoadMatrix(a, aOffsets[item], n, n, m);
            if (!Decompositions.Cholesky(m, n))
            {
                if (failed < 0) failed = item;
                m.AsSpan().Fill(double.NaN);
            }
            StoreMatrix(m, n, n, l, lOffsets[item]);
        }
        return failed;
    }

    public void Qr(StridedView a, StridedView q, StridedView r)
    {
        var (rows, cols, qCols) = (a.Shape[^2], a.Shape[^1], q.Shape[^1]);
        CheckDecomposition("Qr", a, q);
        CheckSameDType("Qr", q, r);
        var work = new double[rows * cols];
        var tau = new double[Math.Min(rows, cols)];
        var qm = new double[rows * qCols];
        var rm = new double[qCols * cols];
        var (aOffsets, qOffsets, rOffsets) = (MatrixOffsets(a, 2), MatrixOffsets(q, 2), MatrixOffsets(r, 2));
        for (int item = 0; item < aOffsets.Length; item++)
        {
            LoadMatrix(a, aOffsets[item], rows, cols, work);
            Decompositions.Householder(work, rows, cols, tau);
            Decompositions.FormQ(work, rows, cols, tau, qm, qCols);
            Array.Clear(rm);
            for (int i = 0; i < Math.Min(qCols, cols); i++)
                for (int j = i; j < cols; j++) rm[i * cols + j] = work[i * cols + j];
            StoreMatrix(qm, rows, qCols, q, qOffsets[item]);
            StoreMatrix(rm, qCols, cols, r, rOffsets[item]);
        }
    }

    public void Svd(StridedView a, StridedView u, StridedView s, StridedView vh)
    {
        var (rows, cols) = (a.Shape[^2], a.Shape[^1]);
        var (uCols, vhRows) = (u.Shape[^1], vh.Shape[^2]);
        CheckDecomposition("Svd", a, u);
        CheckSameDType("Svd", u, s);
        CheckSameDType("Svd", u, vh);
        int k = Math.Min(rows, cols);
        var m = new double[rows * cols];
        var um = new double[rows * uCols];
        var sm = new double[k];
        var vhm = new double[vhRows * cols];
        var (aOffsets, uOffsets, sOffsets, vhOffsets) = (MatrixOffsets(a, 2), MatrixOffsets(u, 2), MatrixOffsets(s, 1), MatrixOffsets(vh, 2));
        for (int item = 0; item < aOffsets.Length; item++)
        {
            LoadMatrix(a, aOffsets[item], rows, cols, m);
            Decompositions.Svd(m, rows, cols, um, uCols, sm, vhm, vhRows);
            StoreMatrix(um, rows, uCols, u, uOffsets[item]);
            StoreMatrix(sm, 1, k, s, sOffsets[item]);
            StoreMatrix(vhm, vhRows, cols, vh, vhOffsets[item]);
        }
    }

    public void Eigh(StridedView a, StridedView w, StridedView v)
    {
        int n = a.Shape[^1];
        CheckDecomposition("Eigh", a, v);
        CheckSameDType("Eigh", w, v);
        var m = new double[n * n];
        var vm = new double[n * n];
        var wm = new double[n];
        var (aOffsets, wOffsets, vOffsets) = (MatrixOffsets(a, 2), MatrixOffsets(w, 1), MatrixOffsets(v, 2));
        for (int item = 0; item < aOffsets.Length; item++)
        {
            LoadMatrix(a, aOffsets[item], n, n, m);
            Decompositions.Eigh(m, n, wm, vm);
            StoreMatrix(wm, 1, n, w, wOffsets[item]);
            StoreMatrix(vm, n, n, v, vOffsets[item]);
        }
    }

    private static void CheckDecomposition(string kernel, in StridedView input, in StridedView output)
    {
        if (input.DType is not (DType.Float32 or DType.Float64))
            throw new NotSupportedException($"{kernel} needs float32 or float64 tensors; got {input.DType.DisplayName()}.");
        CheckSameDType(kernel, input, output);
    }

    /// <summary>
    /// The storage offset of each matrix (<paramref name="itemRank"/> = 2), vector (1) or scalar (0) of a batch, in
    /// row-major order of the leading dims.
    /// </summary>
    private static int[] MatrixOffsets(in StridedView view, int itemRank)
    {
        int batchRank = view.Rank - itemRank;
        int count = 1;
        for (int d = 0; d < batchRank; d++) count *= view.Shape[d];
        var offsets = new int[count];
        for (int item = 0; item < count; item++)
        {
            int rest = item, offset = view.Offset;
            for (int d = batchRank - 1; d >= 0; d--)
            {
                offset += rest % view.Shape[d] * view.Strides[d];
                rest /= view.Shape[d];
            }
            offsets[item] = offset;
        }
        return offsets;
    }

    /// <summary>Reads the matrix at <paramref name="offset"/> (or, for a rank-1 view, a vector as one row) into row-major float64.</summary>
    private static void LoadMatrix(in StridedView view, int offset, int rows, int cols, Span<double> destination)
    {
        if (view.DType == DType.Float32) Load(Data<float>(view.Storage), view, offset, rows, cols, destination);
        else Load(Data<double>(view.Storage), view, offset, rows, cols, destination);
    }

    private static void StoreMatrix(ReadOnlySpan<double> source, int rows, int cols, in StridedView view, int offset)
    {
        if (view.DType == DType.Float32) Store(source, rows, cols, Data<float>(view.Storage), view, offset);
        else Store(source, rows, cols, Data<double>(view.Storage), view, offset);
    }

    private static void StoreScalar(double value, in StridedView view, int offset) => StoreMatrix([value], 1, 1, view, offset);

    // A dim of size 1 is never stepped along, so its stride is not read: the same loop serves matrices, vectors
    // (one row) and scalars (one element).
    private static (int Row, int Column) ItemStrides(in StridedView view, int rows, int cols) =>
        (rows > 1 ? view.Strides[^2] : 0, cols > 1 ? view.Strides[^1] : 0);

    private static void Load<T>(T[] data, in StridedView view, int offset, int rows, int cols, Span<double> destination)
        where T : unmanaged, INumberBase<T>
    {
        var (rowStride, colStride) = ItemStrides(view, rows, cols);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                destination[i * cols + j] = double.CreateTruncating(data[offset + i * rowStride + j * colStride]);
    }

    private static void Store<T>(ReadOnlySpan<double> source, int rows, int cols, T[] data, in StridedView view, int offset)
        where T : unmanaged, INumberBase<T>
    {
        var (rowStride, colStride) = ItemStrides(view, rows, cols);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                data[offset + i * rowStride + j * colStride] = T.CreateTruncating(source[i * cols + j]);
    }
}
