namespace Backprop.Backends.Cpu;

/// <summary>General matrix multiply on strided operands: C = A·B or C += A·B.</summary>
internal static class Gemm
{
    public static void Multiply<T>(int m, int n, int k,
        T[] a, int aOffset, MatrixLayout aLayout,
        T[] b, int bOffset, MatrixLayout bLayout,
        T[] c, int cOffset, MatrixLayout cLayout, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Row i of C accumulates A[i, p]·(row p of B); with unit column strides every inner step is a vector FMA.
        var bRows = bLayout.Column == 1 ? b : Pack(b, bOffset, bLayout, k, n);
        int bBase = bLayout.Column == 1 ? bOffset : 0;
        int bRowStride = bLayout.Column == 1 ? bLayout.Row : n;
        var row = new T[n];
        for (int i = 0; i < m; i++)
        {
            var acc = row.AsSpan();
            acc.Clear();
            for (int p = 0; p < k; p++)
            {
                T av = a[aOffset + i * aLayout.Row + p * aLayout.Column];
                TensorPrimitives.MultiplyAdd(bRows.AsSpan(bBase + p * bRowStride, n), av, acc, acc);
            }
            int cRow = cOffset + i * cLayout.Row;
            if (cLayout.Column == 1)
            {
                var target = c.AsSpan(cRow, n);
                if (accumulate) TensorPrimitives.Add(target, acc, target);
                else acc.CopyTo(target);
            }
            else
            {
                for (int j = 0; j < n; j++)
                {
                    ref T cell = ref c[cRow + j * cLayout.Column];
                    cell = accumulate ? cell + acc[j] : acc[j];
                }
            }
        }
    }

    private static T[] Pack<T>(T[] source, int offset, MatrixLayout layout, int rows, int cols) where T : unmanaged
    {
        var packed = new T[rows * cols];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++)
                packed[i * cols + j] = source[offset + i * layout.Row + j * layout.Column];
        return packed;
    }
}
