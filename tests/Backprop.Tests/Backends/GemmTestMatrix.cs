using System.Numerics;
using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>How a test matrix sits in its array.</summary>
public enum Layout
{
    RowMajor,
    ColumnMajor,
    /// <summary>Neither stride is 1, and the matrix starts at an offset: a sliced, stepped view.</summary>
    Strided,
}

/// <summary>A rows × cols matrix of random values stored with a chosen layout, and its values in double.</summary>
internal sealed class GemmTestMatrix<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public readonly int Rows, Cols, Offset;
    public readonly MatrixLayout MatrixLayout;
    public readonly T[] Data;

    public GemmTestMatrix(int rows, int cols, Layout layout, Random random)
    {
        (Rows, Cols) = (rows, cols);
        (Offset, MatrixLayout) = layout switch
        {
            Layout.RowMajor => (0, new MatrixLayout(cols, 1)),
            Layout.ColumnMajor => (0, new MatrixLayout(1, rows)),
            _ => (5, new MatrixLayout(2 * cols + 3, 2)),
        };
        int length = Offset + (rows - 1) * MatrixLayout.Row + (cols - 1) * MatrixLayout.Column + 1;
        Data = new T[Math.Max(length, Offset + 1)];
        // Fill the gaps too, so a kernel that reads outside the view changes the result.
        for (int i = 0; i < Data.Length; i++) Data[i] = T.CreateTruncating(random.NextDouble() * 2 - 1);
    }

    public double this[int i, int j] => double.CreateTruncating(Data[Offset + i * MatrixLayout.Row + j * MatrixLayout.Column]);

    public double[][] ToDoubleRows() =>
        Enumerable.Range(0, Rows).Select(i => Enumerable.Range(0, Cols).Select(j => this[i, j]).ToArray()).ToArray();

    public double[][] ToDoubleColumns() =>
        Enumerable.Range(0, Cols).Select(j => Enumerable.Range(0, Rows).Select(i => this[i, j]).ToArray()).ToArray();

    public double[] Snapshot() => Data.Select(double.CreateTruncating).ToArray();
}

internal static class GemmReference
{
    /// <summary>
    /// Checks C after C = A·B (or C += A·B) against a triple loop in double, element by element, within a bound
    /// of a few roundings per term of the dot product; and checks that nothing outside C's view was written.
    /// </summary>
    public static void AssertProduct<T>(GemmTestMatrix<T> a, GemmTestMatrix<T> b, GemmTestMatrix<T> c, double[] cBefore, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double eps = typeof(T) == typeof(float) ? 1.2e-7 : 2.3e-16;
        int k = a.Cols;
        var aValues = a.ToDoubleRows();
        var bColumns = b.ToDoubleColumns();
        var inView = new bool[c.Data.Length];
        for (int i = 0; i < c.Rows; i++)
        {
            var aRow = aValues[i];
            for (int j = 0; j < c.Cols; j++)
            {
                var bColumn = bColumns[j];
                double sum = 0, magnitude = 0;
                for (int p = 0; p < k; p++)
                {
                    double term = aRow[p] * bColumn[p];
                    sum += term;
                    magnitude += Math.Abs(term);
                }
                int at = c.Offset + i * c.MatrixLayout.Row + j * c.MatrixLayout.Column;
                inView[at] = true;
                double start = accumulate ? cBefore[at] : 0;
                double expected = start + sum;
                double tolerance = 4 * eps * ((k + 2) * magnitude + Math.Abs(start)) + 1e-300;
                double actual = c[i, j];
                if (!(Math.Abs(actual - expected) <= tolerance))
                    Assert.Fail($"C[{i}, {j}] = {actual}, expected {expected} ± {tolerance} (m={c.Rows}, n={c.Cols}, k={k}, accumulate={accumulate})");
            }
        }
        for (int i = 0; i < inView.Length; i++)
            if (!inView[i] && double.CreateTruncating(c.Data[i]) != cBefore[i])
                Assert.Fail($"C's array was written at {i}, outside the view");
    }
}
