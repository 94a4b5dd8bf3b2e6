using System.Numerics;
using Backprop.Backends.Cpu;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Backprop.Tests.Backends;

/// <summary>
/// The CPU GEMM against a triple loop in double: every micro-kernel this machine runs, both float types, sizes
/// that leave tails in every dimension, every operand layout, overwrite and accumulate, one thread and several.
/// </summary>
public class GemmTests
{
    private static readonly Layout[] Layouts = [Layout.RowMajor, Layout.ColumnMajor, Layout.Strided];

    /// <summary>
    /// (m, n, k): odd sizes around the tile sizes (6 × 16/32/64, and 8 × 32/16 for narrow products) and the k block
    /// (256); (64, 32, 64) is an attention head's P·V.
    /// </summary>
    private static readonly (int M, int N, int K)[] Sizes =
    [
        (1, 1, 1), (3, 7, 17), (17, 33, 7), (65, 3, 33), (7, 129, 3), (33, 65, 65), (129, 17, 5),
        (6, 64, 13), (12, 128, 300), (13, 1, 129), (1, 77, 9), (128, 10, 33),
        (64, 32, 64), (33, 24, 70), (19, 12, 40), (8, 16, 300), (32, 200, 50),
    ];

    public static TheoryData<string, string, int> KernelCases()
    {
        var data = new TheoryData<string, string, int>();
        foreach (var isa in Enum.GetValues<GemmIsa>().Where(Gemm.IsSupported))
            foreach (var type in new[] { "float", "double" })
                foreach (int threads in new[] { 1, 3 })
                    data.Add(isa.ToString(), type, threads);
        return data;
    }

    [Theory]
    [MemberData(nameof(KernelCases))]
    public void Kernel_matches_reference_for_every_size_and_layout(string isa, string type, int threads)
    {
        // MinFlopsPerThread = 1 splits even these small products, so the partition's edges are tested too.
        var settings = new GemmSettings(Enum.Parse<GemmIsa>(isa), threads, SmallPath: false, MinFlopsPerThread: 1);
        if (type == "float") CheckAllLayouts<float>(settings);
        else CheckAllLayouts<double>(settings);
    }

    private static void CheckAllLayouts<T>(GemmSettings settings) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(7);
        int variant = 0;
        foreach (var (m, n, k) in Sizes)
            foreach (var aLayout in Layouts)
                foreach (var bLayout in Layouts)
                {
                    var cLayout = Layouts[variant % 3];
                    bool accumulate = variant / 3 % 2 == 1;
                    variant++;
                    Check<T>(m, n, k, aLayout, bLayout, cLayout, accumulate, settings, random);
                }
    }

    private static void Check<T>(int m, int n, int k, Layout aLayout, Layout bLayout, Layout cLayout, bool accumulate,
        GemmSettings settings, Random random) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var a = new GemmTestMatrix<T>(m, k, aLayout, random);
        var b = new GemmTestMatrix<T>(k, n, bLayout, random);
        var c = new GemmTestMatrix<T>(m, n, cLayout, random);
        var before = c.Snapshot();
        Gemm.Multiply(m, n, k, a.Data, a.Offset, a.MatrixLayout, b.Data, b.Offset, b.MatrixLayout,
            c.Data, c.Offset, c.MatrixLayout, accumulate, settings);
        GemmReference.AssertProduct(a, b, c, before, accumulate);
    }

    public static TheoryData<string, string> IsaAndType()
    {
        var data = new TheoryData<string, string>();
        foreach (var isa in Enum.GetValues<GemmIsa>().Where(Gemm.IsSupported))
            foreach (var type in new[] { "float", "double" })
                data.Add(isa.ToString(), type);
        return data;
    }

    [Theory]
    [MemberData(nameof(IsaAndType))]
    public void Products_spanning_several_k_blocks_and_panel_groups_match_reference(string isa, string type)
    {
        // n = 600 exceeds one packed block of B (512 float columns at kc = 256), k = 520 makes three k blocks.
        foreach (int threads in new[] { 1, 2 })
        {
            var settings = new GemmSettings(Enum.Parse<GemmIsa>(isa), threads, SmallPath: false, MinFlopsPerThread: 1);
            var random = new Random(threads);
            foreach (var (aLayout, bLayout) in new[] { (Layout.RowMajor, Layout.RowMajor), (Layout.ColumnMajor, Layout.ColumnMajor) })
            {
                if (type == "float") Check<float>(7, 600, 520, aLayout, bLayout, Layout.RowMajor, accumulate: threads == 2, settings, random);
                else Check<double>(7, 600, 520, aLayout, bLayout, Layout.RowMajor, accumulate: threads == 2, settings, random);
            }
        }
    }

    [Theory]
    [InlineData(4, 4, 2)]  // XOR forward, hidden layer: [4, 2]·[2, 4]
    [InlineData(4, 1, 4)]  // XOR forward, output: [4, 4]·[4, 1]
    [InlineData(4, 2, 4)]  // the hidden layer's input gradient: [4, 4]·[4, 2]
    [InlineData(2, 4, 4)]  // its weight gradient: [4, 2]ᵀ·[4, 4]
    [InlineData(6, 6, 6)]
    [InlineData(1, 1, 1)]
    public void Small_products_take_the_direct_path_and_match_reference(int m, int n, int k)
    {
        var random = new Random(m * 100 + n * 10 + k);
        int variant = 0;
        foreach (var aLayout in Layouts)
            foreach (var bLayout in Layouts)
            {
                bool accumulate = variant++ % 2 == 1;
                Check<float>(m, n, k, aLayout, bLayout, Layouts[variant % 3], accumulate, GemmSettings.Default, random);
                Check<double>(m, n, k, aLayout, bLayout, Layouts[variant % 3], accumulate, GemmSettings.Default, random);
            }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Empty_inner_dimension_clears_or_keeps_C(bool smallPath)
    {
        foreach (var isa in Enum.GetValues<GemmIsa>().Where(Gemm.IsSupported))
        {
            var settings = new GemmSettings(isa, 2, smallPath);
            var random = new Random(3);
            foreach (bool accumulate in new[] { false, true })
            {
                var c = new GemmTestMatrix<float>(5, 9, Layout.Strided, random);
                var before = c.Snapshot();
                Gemm.Multiply(5, 9, 0, [], 0, new MatrixLayout(0, 1), [], 0, new MatrixLayout(9, 1),
                    c.Data, c.Offset, c.MatrixLayout, accumulate, settings);
                for (int i = 0; i < 5; i++)
                    for (int j = 0; j < 9; j++)
                    {
                        int at = c.Offset + i * c.MatrixLayout.Row + j * c.MatrixLayout.Column;
                        Assert.Equal(accumulate ? before[at] : 0.0, c[i, j]);
                    }
            }
        }
    }

    [Theory]
    [MemberData(nameof(KernelCases))]
    public void A_bias_row_starts_C_with_the_bits_of_filling_C_then_accumulating(string isa, string type, int threads)
    {
        if (type == "float") CheckBiasRows<float>(Enum.Parse<GemmIsa>(isa), threads);
        else CheckBiasRows<double>(Enum.Parse<GemmIsa>(isa), threads);
    }

    private static void CheckBiasRows<T>(GemmIsa isa, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(11);
        // Small products, the tiled ones, several k blocks (k = 520), an empty k, and C column-major or narrow (the
        // swapped product, which writes the bias first), on the blocked and the direct path.
        (int M, int N, int K)[] sizes = [.. Sizes, (7, 600, 520), (5, 9, 0), (2, 3, 2)];
        foreach (bool smallPath in new[] { false, true })
            foreach (var (m, n, k) in sizes)
                foreach (var cLayout in Layouts)
                {
                    var settings = new GemmSettings(isa, threads, smallPath, MinFlopsPerThread: 1);
                    var a = new GemmTestMatrix<T>(m, k, Layout.RowMajor, random);
                    var b = new GemmTestMatrix<T>(k, n, Layout.ColumnMajor, random);
                    var bias = new GemmTestMatrix<T>(1, n + 3, Layout.RowMajor, random);
                    var started = new GemmTestMatrix<T>(m, n, cLayout, random);
                    var filled = new GemmTestMatrix<T>(m, n, cLayout, new Random(0));
                    started.Data.CopyTo(filled.Data, 0);
                    Gemm.Multiply(m, n, k, a.Data, a.Offset, a.MatrixLayout, b.Data, b.Offset, b.MatrixLayout,
                        started.Data, started.Offset, started.MatrixLayout, accumulate: false, settings, bias.Data, 3);
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++)
                            filled.Data[filled.Offset + i * filled.MatrixLayout.Row + j * filled.MatrixLayout.Column] = bias.Data[3 + j];
                    Gemm.Multiply(m, n, k, a.Data, a.Offset, a.MatrixLayout, b.Data, b.Offset, b.MatrixLayout,
                        filled.Data, filled.Offset, filled.MatrixLayout, accumulate: true, settings);
                    // Every element, inside C's view or not, is bit for bit the same.
                    Assert.True(started.Data.AsSpan().SequenceEqual(filled.Data), $"[{m}, {n}, {k}] C {cLayout} small path {smallPath}");
                }
    }

    [Theory]
    [MemberData(nameof(KernelCases))]
    public void Reading_A_by_rows_gives_the_bits_of_reading_it_panel_by_panel(string isa, string type, int threads)
    {
        if (type == "float") CheckByRows<float>(Enum.Parse<GemmIsa>(isa), threads);
        else CheckByRows<double>(Enum.Parse<GemmIsa>(isa), threads);
    }

    private static void CheckByRows<T>(GemmIsa isa, int threads) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(5);
        int variant = 0;
        // An LSTM's ∂W_hh shape (scaled down), partial slivers and panels, several k blocks (k = 520).
        foreach (var (m, n, k) in new[] { (256, 64, 280), (37, 129, 20), (7, 600, 520), (61, 13, 33) })
            foreach (var aLayout in Layouts)
                foreach (var cLayout in new[] { Layout.RowMajor, Layout.Strided })
                {
                    bool accumulate = variant++ % 2 == 1;
                    var a = new GemmTestMatrix<T>(m, k, aLayout, random);
                    var b = new GemmTestMatrix<T>(k, n, Layout.RowMajor, random);
                    var byRows = new GemmTestMatrix<T>(m, n, cLayout, random);
                    var byPanels = new GemmTestMatrix<T>(m, n, cLayout, random);
                    byRows.Data.CopyTo(byPanels.Data, 0);
                    var before = byRows.Snapshot();
                    foreach (var (c, rows) in new[] { (byRows, true), (byPanels, false) })
                        Gemm.Multiply(m, n, k, a.Data, a.Offset, a.MatrixLayout, b.Data, b.Offset, b.MatrixLayout, c.Data, c.Offset, c.MatrixLayout,
                            accumulate, new GemmSettings(isa, threads, SmallPath: false, MinFlopsPerThread: 1, ByRows: rows));
                    GemmReference.AssertProduct(a, b, byRows, before, accumulate);
                    Assert.True(byRows.Data.AsSpan().SequenceEqual(byPanels.Data), $"[{m}, {n}, {k}] A {aLayout} C {cLayout}");
                }
    }

    [Property(MaxTest = 60)]
    public void Any_product_matches_reference(PositiveInt m, PositiveInt n, PositiveInt k, byte layouts, bool accumulate, bool isDouble, byte isaIndex)
    {
        var isas = Enum.GetValues<GemmIsa>().Where(Gemm.IsSupported).ToArray();
        var settings = new GemmSettings(isas[isaIndex % isas.Length], 2, SmallPath: layouts >= 128, MinFlopsPerThread: 1);
        int mm = 1 + m.Get % 40, nn = 1 + n.Get % 70, kk = 1 + k.Get % 40;
        var (aLayout, bLayout, cLayout) = (Layouts[layouts % 3], Layouts[layouts / 3 % 3], Layouts[layouts / 9 % 3]);
        var random = new Random(mm * 7919 + nn * 31 + kk);
        if (isDouble) Check<double>(mm, nn, kk, aLayout, bLayout, cLayout, accumulate, settings, random);
        else Check<float>(mm, nn, kk, aLayout, bLayout, cLayout, accumulate, settings, random);
    }

    [Fact]
    public void Batched_product_with_a_broadcast_batch_dim_multiplies_each_matrix()
    {
        // A: [3, 2, 5, 4] whose first batch dim has stride 0 (one matrix seen three times); B: [3, 2, 4, 70]
        // transposed per matrix; C: [3, 2, 5, 70] contiguous, accumulated into.
        var random = new Random(11);
        int m = 5, k = 4, n = 70;
        var aData = Enumerable.Range(0, 2 * m * k).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var bData = Enumerable.Range(0, 6 * k * n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var cData = Enumerable.Range(0, 6 * m * n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var cBefore = (float[])cData.Clone();
        var a = new StridedView(CpuBackend.Wrap(aData), [3, 2, m, k], [0, m * k, k, 1], 0, false);
        var b = new StridedView(CpuBackend.Wrap(bData), [3, 2, k, n], [2 * k * n, k * n, 1, k], 0, false);
        var c = new StridedView(CpuBackend.Wrap(cData), [3, 2, m, n], [2 * m * n, m * n, n, 1], 0, true);
        CpuBackend.Instance.MatMul(a, b, c, accumulate: true);
        for (int x = 0; x < 3; x++)
            for (int y = 0; y < 2; y++)
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double sum = cBefore[(x * 2 + y) * m * n + i * n + j];
                        for (int p = 0; p < k; p++)
                            sum += aData[y * m * k + i * k + p] * (double)bData[(x * 2 + y) * k * n + j * k + p];
                        Assert.Equal(sum, cData[(x * 2 + y) * m * n + i * n + j], 1e-5);
                    }
    }

    [Fact]
    public void Multiply_allocates_nothing_once_warm()
    {
        var backend = CpuBackend.Instance;
        StridedView Matrix(int rows, int cols) =>
            StridedView.Contiguous(CpuBackend.Wrap(new float[rows * cols]), [rows, cols]);
        // The XOR net's forward product (direct path) and a 96³ one (packed path) with a transposed operand.
        var (xa, xb, xc) = (Matrix(4, 2), Matrix(2, 4), Matrix(4, 4));
        var (ga, gc) = (Matrix(96, 96), Matrix(96, 96));
        var gb = new StridedView(CpuBackend.Wrap(new float[96 * 96]), [96, 96], [1, 96], 0, false);
        for (int i = 0; i < 3; i++)
        {
            backend.MatMul(xa, xb, xc, false);
            backend.MatMul(ga, gb, gc, true);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++)
        {
            backend.MatMul(xa, xb, xc, false);
            backend.MatMul(ga, gb, gc, true);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Tensor_matmul_of_transposed_views_matches_reference()
    {
        var a = Tensor.Randn([33, 70], DType.Float64, new Generator(5));
        var b = Tensor.Randn([65, 33], DType.Float64, new Generator(6));
        var c = a.T.MatMul(b.T);  // [70, 33]·[33, 65]
        var av = a.ToArray<double>();
        var bv = b.ToArray<double>();
        var cv = c.ToArray<double>();
        Assert.Equal([70, 65], c.Sizes);
        for (int i = 0; i < 70; i++)
            for (int j = 0; j < 65; j++)
            {
                double sum = 0;
                for (int p = 0; p < 33; p++) sum += av[p * 70 + i] * bv[j * 33 + p];
                Assert.Equal(sum, cv[i * 65 + j], 1e-12);
            }
    }
}
