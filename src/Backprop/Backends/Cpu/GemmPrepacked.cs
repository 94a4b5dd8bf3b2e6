using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Backends.Cpu;

/// <summary>
/// B packed once for <see cref="Gemm.Multiply{T}(int, T[], int, MatrixLayout, PrepackedB{T}, T[], int, MatrixLayout, bool, in GemmSettings)"/>:
/// the panels <see cref="GemmJob{T, TKernel}"/> would pack on every call, for all of N, k block after k block (block
/// p0 at p0·⌈N/NR⌉·NR, its panel jp at jp·kc·NR within). The products are the same as the unpacked path's (same
/// panels, same kernel, same order), so packing once only removes the copies.
/// </summary>
internal sealed unsafe class PrepackedB<T> : PackedOperand where T : unmanaged
{
    private readonly T[] _data;

    public PrepackedB(int k, int n, T[] b, int offset, MatrixLayout layout, GemmIsa isa, bool narrow, int nr, DType dtype) : base(k, n, dtype)
    {
        Isa = isa;
        Narrow = narrow;
        int panels = (n + nr - 1) / nr;
        // Pinned and 64-byte aligned like the per-thread packing buffers, so the kernels' loads behave the same.
        _data = GC.AllocateUninitializedArray<T>(k * panels * nr + 64 / sizeof(T), pinned: true);
        fixed (T* src = b)
            // Panels are independent: a recurrent layer packs W_hh on every pass, so both cores share the copy.
            GemmPacking.PackAllPanels(k, n, nr, src + offset, layout.Row, layout.Column, Pointer);
    }

    /// <summary>The kernel family the panels were cut for (their width NR).</summary>
    public GemmIsa Isa { get; }

    /// <summary>Whether the panels are cut for <see cref="Avx512NarrowKernel{T}"/> rather than <see cref="Avx512Kernel{T}"/>.</summary>
    public bool Narrow { get; }

    public T* Pointer
    {
        get
        {
            nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_data));
            return (T*)((start + 63) & ~(nint)63);
        }
    }
}

internal static unsafe partial class Gemm
{
    /// <summary>The micro-kernel family a product with these settings runs (the fallbacks of <see cref="Multiply{T}(int, int, int, T[], int, MatrixLayout, T[], int, MatrixLayout, T[], int, MatrixLayout, bool, in GemmSettings, T[], int)"/>).</summary>
    public static GemmIsa ResolveIsa<T>(GemmIsa isa) where T : unmanaged, INumberBase<T> => isa switch
    {
        GemmIsa.Avx512 when Avx512Kernel<T>.IsSupported => GemmIsa.Avx512,
        GemmIsa.Avx2 or GemmIsa.Avx512 when Avx2Kernel<T>.IsSupported => GemmIsa.Avx2,
        _ => GemmIsa.Portable,
    };

    /// <summary>
    /// Packs B [k, n] once for the kernel that <paramref name="settings"/> selects and, with AVX-512, for the tile that
    /// fits C best when A will have <paramref name="leftRows"/> rows: a recurrent layer's batch of 32 fills 8-row tiles
    /// exactly but leaves a third of the last 6-row one empty. Either tile sums every element in the same order, so
    /// the choice never changes a result.
    /// </summary>
    public static PrepackedB<T> Prepack<T>(int k, int n, T[] b, int offset, MatrixLayout layout, DType dtype, in GemmSettings settings,
        int leftRows = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var isa = ResolveIsa<T>(settings.Isa);
        bool narrow = isa == GemmIsa.Avx512 && leftRows > 0 && NarrowFitsBetter<T>(leftRows, n, transposable: false);
        int nr = isa switch
        {
            GemmIsa.Avx512 => narrow ? Avx512NarrowKernel<T>.NR : Avx512Kernel<T>.NR,
            GemmIsa.Avx2 => Avx2Kernel<T>.NR,
            _ => PortableKernel<T>.NR,
        };
        return new PrepackedB<T>(k, n, b, offset, layout, isa, narrow, nr, dtype);
    }

    /// <summary>C = A·B or C += A·B with B packed by <see cref="Prepack{T}"/>; A is m × B.Rows.</summary>
    public static void Multiply<T>(int m, T[] a, int aOffset, MatrixLayout aLayout, PrepackedB<T> b, T[] c, int cOffset, MatrixLayout cLayout,
        bool accumulate, in GemmSettings settings) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = b.Columns, k = b.Rows;
        if (m <= 0 || n <= 0) return;
        fixed (T* pa = a, pc = c)
        {
            T* ap = pa + aOffset, cp = pc + cOffset;
            if (k <= 0)
            {
                if (!accumulate) Clear(m, n, cp, cLayout);
                return;
            }
            switch (b.Isa)
            {
                case GemmIsa.Avx512 when b.Narrow:
                    BlockedPrepacked<T, Avx512NarrowKernel<T>>(m, ap, aLayout, b, cp, cLayout, accumulate, settings);
                    break;
                case GemmIsa.Avx512:
                    BlockedPrepacked<T, Avx512Kernel<T>>(m, ap, aLayout, b, cp, cLayout, accumulate, settings);
                    break;
                case GemmIsa.Avx2:
                    BlockedPrepacked<T, Avx2Kernel<T>>(m, ap, aLayout, b, cp, cLayout, accumulate, settings);
                    break;
                default:
                    BlockedPrepacked<T, PortableKernel<T>>(m, ap, aLayout, b, cp, cLayout, accumulate, settings);
                    break;
            }
        }
    }

    private static void BlockedPrepacked<T, TKernel>(int m, T* a, MatrixLayout aLayout, PrepackedB<T> b, T* c, MatrixLayout cLayout,
        bool accumulate, in GemmSettings settings) where T : unmanaged, INumberBase<T> where TKernel : IGemmKernel<T>
    {
        var job = new GemmJob<T, TKernel>(m, b.Columns, b.Rows, a, aLayout.Row, aLayout.Column, null, 0, 0, c, cLayout.Row, cLayout.Column,
            accumulate, b.Pointer);
        long tileFlops = 2L * TKernel.MR * TKernel.NR * b.Rows;
        int grain = (int)Math.Clamp((settings.MinFlopsPerThread + tileFlops - 1) / tileFlops, 1, int.MaxValue);
        CpuParallel.For(job.Tiles, ref job, grain, settings.Threads, chunksPerThread: 4);
    }
}
