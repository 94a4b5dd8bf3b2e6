using System.Runtime.CompilerServices;

namespace Backprop.Backends.Cpu;

/// <summary>The instruction sets the GEMM has a micro-kernel for.</summary>
internal enum GemmIsa
{
    /// <summary><see cref="Vector{T}"/>: any hardware.</summary>
    Portable,
    /// <summary>256-bit vectors with FMA.</summary>
    Avx2,
    /// <summary>512-bit vectors with FMA.</summary>
    Avx512,
}

/// <summary>How one GEMM runs; <see cref="Default"/> is what the backend uses, tests force the other paths.</summary>
/// <param name="Isa">The micro-kernel family.</param>
/// <param name="Threads">At most this many participants in the parallel-for.</param>
/// <param name="SmallPath">Whether tiny products skip packing for a direct loop.</param>
/// <param name="MinFlopsPerThread">Work a participant must get before the product is split.</param>
/// <param name="ByRows">Whether a blocked product packs B once and reads A by rows (see <see cref="GemmJob{T, TKernel}"/>);
/// null: when A is large and B small (<see cref="Gemm"/> decides).</param>
internal readonly record struct GemmSettings(GemmIsa Isa, int Threads, bool SmallPath = true, long MinFlopsPerThread = GemmSettings.DefaultMinFlopsPerThread,
    bool? ByRows = null)
{
    /// <summary>About 5 µs of one core's work: waking a spinning worker costs well under that.</summary>
    public const long DefaultMinFlopsPerThread = 1 << 19;

    public static GemmSettings Default => new(Gemm.BestIsa, CpuParallel.ThreadCount);
}

/// <summary>
/// General matrix multiply on strided operands: C = A·B or C += A·B, for float and double. A packed, cache-blocked
/// GEMM (GotoBLAS/BLIS structure, see <see cref="GemmJob{T, TKernel}"/>) with a register-tiled FMA micro-kernel
/// per instruction set, split across cores by <see cref="CpuParallel"/>; tiny products take a direct loop instead.
/// </summary>
internal static unsafe partial class Gemm
{
    /// <summary>
    /// Products of at most this many multiply-adds (m·n·k) skip packing, such as the XOR net's [4, 2]·[2, 4]. Measured
    /// crossover: the direct loop costs ~0.8 ns a multiply-add, the packed path ~200 ns of fixed cost (8³ is faster packed).
    /// </summary>
    public const int SmallWork = 256;

    public static GemmIsa BestIsa { get; } =
        Avx512Kernel<float>.IsSupported ? GemmIsa.Avx512 : Avx2Kernel<float>.IsSupported ? GemmIsa.Avx2 : GemmIsa.Portable;

    public static bool IsSupported(GemmIsa isa) => isa switch
    {
        GemmIsa.Avx512 => Avx512Kernel<float>.IsSupported,
        GemmIsa.Avx2 => Avx2Kernel<float>.IsSupported,
        _ => true,
    };

    public static void Multiply<T>(int m, int n, int k,
        T[] a, int aOffset, MatrixLayout aLayout,
        T[] b, int bOffset, MatrixLayout bLayout,
        T[] c, int cOffset, MatrixLayout cLayout, bool accumulate)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        Multiply(m, n, k, a, aOffset, aLayout, b, bOffset, bLayout, c, cOffset, cLayout, accumulate, GemmSettings.Default);

    /// <summary>
    /// C = A·B, C += A·B, or with <paramref name="bias"/> (N contiguous values from <paramref name="biasOffset"/>)
    /// C = A·B + bias on every row: the kernels start C's tiles from the bias, so C is written once instead of
    /// filled with the bias and then read back to accumulate. Either way each element is the bias plus the finished
    /// sum, so the bits are those of the fill-then-accumulate route.
    /// </summary>
    public static void Multiply<T>(int m, int n, int k,
        T[] a, int aOffset, MatrixLayout aLayout,
        T[] b, int bOffset, MatrixLayout bLayout,
        T[] c, int cOffset, MatrixLayout cLayout, bool accumulate, in GemmSettings settings, T[]? bias = null, int biasOffset = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (m <= 0 || n <= 0) return;
        if (bias is not null && accumulate) throw new ArgumentException("Gemm: a bias starts C, so it cannot be combined with accumulate.");
        fixed (T* pa = a, pb = b, pc = c, pBias = bias)
        {
            T* cp = pc + cOffset;
            T* biasRow = bias is null ? null : pBias + biasOffset;
            if (biasRow != null && (k <= 0 || (settings.SmallPath && (long)m * n * k <= SmallWork)))
            {
                // The small and empty products accumulate onto the bias written first: the same sums.
                FillRows(m, n, biasRow, cp, cLayout);
                biasRow = null;
                accumulate = true;
            }
            if (k <= 0)
            {
                if (!accumulate) Clear(m, n, cp, cLayout);
                return;
            }
            T* ap = pa + aOffset, bp = pb + bOffset;
            if (settings.SmallPath && (long)m * n * k <= SmallWork)
            {
                Small(m, n, k, ap, aLayout, bp, bLayout, cp, cLayout, accumulate);
                return;
            }
            switch (settings.Isa)
            {
                case GemmIsa.Avx512 when Avx512Kernel<T>.IsSupported && cLayout.Column == 1 && NarrowFitsBetter<T>(m, n, transposable: true):
                    Blocked<T, Avx512NarrowKernel<T>>(m, n, k, ap, aLayout, bp, bLayout, cp, cLayout, accumulate, biasRow, settings);
                    break;
                case GemmIsa.Avx512 when Avx512Kernel<T>.IsSupported:
                    Blocked<T, Avx512Kernel<T>>(m, n, k, ap, aLayout, bp, bLayout, cp, cLayout, accumulate, biasRow, settings);
                    break;
                case GemmIsa.Avx2 or GemmIsa.Avx512 when Avx2Kernel<T>.IsSupported:
                    Blocked<T, Avx2Kernel<T>>(m, n, k, ap, aLayout, bp, bLayout, cp, cLayout, accumulate, biasRow, settings);
                    break;
                default:
                    Blocked<T, PortableKernel<T>>(m, n, k, ap, aLayout, bp, bLayout, cp, cLayout, accumulate, biasRow, settings);
                    break;
            }
        }
    }

    private static void Blocked<T, TKernel>(int m, int n, int k, T* a, MatrixLayout aLayout, T* b, MatrixLayout bLayout,
        T* c, MatrixLayout cLayout, bool accumulate, T* bias, in GemmSettings settings)
        where T : unmanaged, INumberBase<T> where TKernel : IGemmKernel<T>
    {
        // Cᵀ = Bᵀ·Aᵀ is the same product with the roles swapped. Take it when C is column-major (so the kernel
        // stores whole rows again) or when it pads the tiles much less (a narrow C, such as [128, 10]).
        bool swap = cLayout.Column != 1 && cLayout.Row == 1
            || cLayout.Column == 1 && Fill<TKernel, T>(n, m) > SwapGain * Fill<TKernel, T>(m, n);
        if (swap)
        {
            if (bias != null)
            {
                // Swapped, the bias would run down the tiles' columns: write it first and accumulate instead.
                FillRows(m, n, bias, c, cLayout);
                bias = null;
                accumulate = true;
            }
            (m, n) = (n, m);
            T* t = a;
            a = b;
            b = t;
            var first = aLayout;
            aLayout = new MatrixLayout(bLayout.Column, bLayout.Row);
            bLayout = new MatrixLayout(first.Column, first.Row);
            cLayout = new MatrixLayout(cLayout.Column, cLayout.Row);
        }
        int panels = (n + TKernel.NR - 1) / TKernel.NR;
        long tileFlops = 2L * TKernel.MR * TKernel.NR * k;
        int grain = (int)Math.Clamp((settings.MinFlopsPerThread + tileFlops - 1) / tileFlops, 1, int.MaxValue);
        T* sharedB = null;
        if (settings.ByRows ?? (panels >= 2 && (long)m * k * sizeof(T) > ByRowsMinABytes
            && (long)k * panels * TKernel.NR * sizeof(T) <= ByRowsMaxBBytes && Math.Min(settings.Threads, CpuParallel.ThreadCount) > 1))
        {
            // Panel by panel, every chunk would read all its rows of A once per panel, and a large A comes from L3 each
            // time: the LSTM workload's ∂W_hh took 10% longer so. B is packed once here, for all chunks, instead.
            sharedB = GemmBuffers.SharedB<T>(k * panels * TKernel.NR);
            GemmPacking.PackAllPanels(k, n, TKernel.NR, b, bLayout.Row, bLayout.Column, sharedB);
        }
        var job = new GemmJob<T, TKernel>(m, n, k, a, aLayout.Row, aLayout.Column, b, bLayout.Row, bLayout.Column, c, cLayout.Row, cLayout.Column,
            accumulate, sharedB, bias, byRows: sharedB != null);
        CpuParallel.For(job.Tiles, ref job, grain, settings.Threads, chunksPerThread: 4);
    }

    /// <summary>
    /// Whether the 8 × 32 tile covers an m×n C with clearly less padding than the 6 × 64 one does (either way round
    /// when the product may be transposed): a product at most 32 columns wide (an attention head's P·V), or 32 rows of
    /// a recurrent layer's batch.
    /// </summary>
    private static bool NarrowFitsBetter<T>(int m, int n, bool transposable) where T : unmanaged
    {
        double straight = Fill<Avx512Kernel<T>, T>(m, n), transposed = Fill<Avx512Kernel<T>, T>(n, m);
        double wide = transposable && transposed > SwapGain * straight ? transposed : straight;
        return Fill<Avx512NarrowKernel<T>, T>(m, n) > 1.05 * wide;
    }

    /// <summary>
    /// A is larger than this before a product reads it by rows: smaller, the rows a core reads stay in its L2 from
    /// panel to panel, and packing B apart first made the mlp workload 5% slower.
    /// </summary>
    private const long ByRowsMinABytes = 1024 * 1024;

    /// <summary>B packed is at most this large for a product read by rows: each core keeps all of it in its L2.</summary>
    private const long ByRowsMaxBBytes = 1280 * 1024;

    /// <summary>How much better the transposed product must fill its tiles to be worth scattering every tile.</summary>
    private const double SwapGain = 1.25;

    /// <summary>The share of the padded MR×NR tiles that holds real elements of an m×n C.</summary>
    private static double Fill<TKernel, T>(int m, int n) where T : unmanaged where TKernel : IGemmKernel<T>
    {
        long rows = (m + TKernel.MR - 1) / TKernel.MR * (long)TKernel.MR;
        long cols = (n + TKernel.NR - 1) / TKernel.NR * (long)TKernel.NR;
        return (double)m * n / (rows * cols);
    }

    /// <summary>Dot products straight from the operands: no packing, no threads, nothing allocated.</summary>
    private static void Small<T>(int m, int n, int k, T* a, MatrixLayout aLayout, T* b, MatrixLayout bLayout,
        T* c, MatrixLayout cLayout, bool accumulate) where T : unmanaged, INumberBase<T>
    {
        nint aRow = aLayout.Row, aCol = aLayout.Column, bRow = bLayout.Row, bCol = bLayout.Column;
        for (int i = 0; i < m; i++)
        {
            T* aI = a + i * aRow;
            T* cI = c + i * (nint)cLayout.Row;
            for (int j = 0; j < n; j++)
            {
                T* bJ = b + j * bCol;
                T sum = T.Zero;
                for (int p = 0; p < k; p++) sum += aI[p * aCol] * bJ[p * bRow];
                ref T cell = ref Unsafe.AsRef<T>(cI + j * (nint)cLayout.Column);
                cell = accumulate ? cell + sum : sum;
            }
        }
    }

    /// <summary>Writes the bias row into every row of C.</summary>
    private static void FillRows<T>(int m, int n, T* bias, T* c, MatrixLayout cLayout) where T : unmanaged
    {
        for (int i = 0; i < m; i++)
        {
            T* row = c + i * (nint)cLayout.Row;
            if (cLayout.Column == 1) new ReadOnlySpan<T>(bias, n).CopyTo(new Span<T>(row, n));
            else for (int j = 0; j < n; j++) row[j * (nint)cLayout.Column] = bias[j];
        }
    }

    private static void Clear<T>(int m, int n, T* c, MatrixLayout cLayout) where T : unmanaged
    {
        for (int i = 0; i < m; i++)
        {
            T* row = c + i * (nint)cLayout.Row;
            if (cLayout.Column == 1) new Span<T>(row, n).Clear();
            else for (int j = 0; j < n; j++) row[j * (nint)cLayout.Column] = default;
        }
    }
}
