using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Backends.Cpu;

/// <summary>
/// Copies blocks of GEMM operands into the contiguous, zero-padded panels the micro-kernels read, whatever the
/// source strides: this is where transposed and strided views are absorbed.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs B[0..kc, 0..nc] (element (p, j) at b + p·bRow + j·bCol) into ⌈nc/nr⌉ panels of kc × nr, each row of a
    /// panel nr contiguous values, columns past nc zero.
    /// </summary>
    public static void PackB<T>(int kc, int nc, int nr, T* b, nint bRow, nint bCol, T* dst) where T : unmanaged
    {
        if (bCol == 1)
        {
            // Row-major source: walk each row of B once, front to back, dealing it out to the panels.
            int panels = (nc + nr - 1) / nr;
            nint panelSize = (nint)kc * nr;
            for (int p = 0; p < kc; p++)
            {
                T* from = b + p * bRow;
                T* to = dst + (nint)p * nr;
                for (int panel = 0; panel < panels; panel++, from += nr, to += panelSize)
                {
                    int cols = Math.Min(nr, nc - panel * nr);
                    new ReadOnlySpan<T>(from, cols).CopyTo(new Span<T>(to, cols));
                    if (cols < nr) new Span<T>(to + cols, nr - cols).Clear();
                }
            }
            return;
        }
        for (int j0 = 0; j0 < nc; j0 += nr, dst += (nint)kc * nr)
        {
            int cols = Math.Min(nr, nc - j0);
            T* src = b + j0 * bCol;
            if (bRow == 1)
            {
                // Column-major source (a transposed view): 8×8 (4×4 for double) blocks go through registers, so
                // both the reads down each column and the writes along each panel row are whole vectors.
                if (cols < nr) new Span<T>(dst, kc * nr).Clear();
                int p = 0;
                int block = 32 / sizeof(T);
                if (Avx.IsSupported && cols == nr && nr % block == 0)
                {
                    for (; p + block <= kc; p += block)
                        for (int j = 0; j < cols; j += block)
                        {
                            if (typeof(T) == typeof(float)) Transpose8x8((float*)(src + p + j * bCol), bCol, (float*)(dst + (nint)p * nr + j), nr);
                            else if (typeof(T) == typeof(double)) Transpose4x4((double*)(src + p + j * bCol), bCol, (double*)(dst + (nint)p * nr + j), nr);
                            else break;
                        }
                }
                for (int j = 0; j < cols; j++)
                {
                    T* column = src + j * bCol;
                    T* target = dst + j;
                    for (int q = p; q < kc; q++) target[(nint)q * nr] = column[q];
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    T* row = dst + (nint)p * nr;
                    T* from = src + p * bRow;
                    for (int j = 0; j < cols; j++) row[j] = from[j * bCol];
                    if (cols < nr) new Span<T>(row + cols, nr - cols).Clear();
                }
            }
        }
    }

    /// <summary>Writes the 8×8 block whose row r is at src + r·srcStride, transposed, to rows at dst + c·dstStride.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint srcStride, float* dst, nint dstStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var r4 = Avx.LoadVector256(src + 4 * srcStride);
        var r5 = Avx.LoadVector256(src + 5 * srcStride);
        var r6 = Avx.LoadVector256(src + 6 * srcStride);
        var r7 = Avx.LoadVector256(src + 7 * srcStride);
        // Interleave pairs of rows, then pairs of pairs, then swap 128-bit halves.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * dstStride, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5 * dstStride, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6 * dstStride, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7 * dstStride, Avx.Permute2x128(s3, s7, 0x31));
    }

    /// <summary>The 4×4 double counterpart of <see cref="Transpose8x8"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(double* src, nint srcStride, double* dst, nint dstStride)
    {
        var r0 = Avx.LoadVector256(src);
        var r1 = Avx.LoadVector256(src + srcStride);
        var r2 = Avx.LoadVector256(src + 2 * srcStride);
        var r3 = Avx.LoadVector256(src + 3 * srcStride);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        Avx.Store(dst, Avx.Permute2x128(t0, t2, 0x20));
        Avx.Store(dst + dstStride, Avx.Permute2x128(t1, t3, 0x20));
        Avx.Store(dst + 2 * dstStride, Avx.Permute2x128(t0, t2, 0x31));
        Avx.Store(dst + 3 * dstStride, Avx.Permute2x128(t1, t3, 0x31));
    }

    /// <summary>
    /// Packs an A sliver of <paramref name="rows"/> ≤ mr rows and kc columns (element (r, p) at a + r·aRow + p·aCol)
    /// as kc groups of mr values (row stride 1, column stride mr), rows past <paramref name="rows"/> zero.
    /// </summary>
    public static void PackA<T>(int kc, int rows, int mr, T* a, nint aRow, nint aCol, T* dst) where T : unmanaged
    {
        if (rows < mr) new Span<T>(dst, kc * mr).Clear();
        for (int r = 0; r < rows; r++)
        {
            T* from = a + r * aRow;
            T* target = dst + r;
            for (int p = 0; p < kc; p++) target[(nint)p * mr] = from[p * aCol];
        }
    }

    /// <summary>
    /// Packs all of B [k, n] as <see cref="GemmJob{T, TKernel}"/> reads a prepacked B: k block after k block (block p0
    /// at p0·⌈n/nr⌉·nr), panel jp at jp·kc·nr within, the panels split across the cores.
    /// </summary>
    public static void PackAllPanels<T>(int k, int n, int nr, T* b, nint bRow, nint bCol, T* destination) where T : unmanaged
    {
        var job = new AllPanels<T>(k, n, nr, b, bRow, bCol, destination);
        CpuParallel.For((n + nr - 1) / nr, ref job, Math.Max(1, ParallelPackElements / Math.Max(1, k * nr)));
    }

    /// <summary>Elements of B a participant must get before packing is split.</summary>
    private const int ParallelPackElements = 1 << 15;

    /// <summary>Panels [start, end) of every k block.</summary>
    private readonly struct AllPanels<T>(int k, int n, int nr, T* source, nint bRow, nint bCol, T* destination) : IParallelBody
        where T : unmanaged
    {
        public void Execute(int start, int end)
        {
            int kc = GemmBlocking.Kc(k), panels = (n + nr - 1) / nr;
            int columns = Math.Min(n, end * nr) - start * nr;
            for (int p0 = 0; p0 < k; p0 += kc)
            {
                int rows = Math.Min(kc, k - p0);
                PackB(rows, columns, nr, source + p0 * bRow + (nint)start * nr * bCol, bRow, bCol,
                    destination + (nint)p0 * panels * nr + (nint)start * rows * nr);
            }
        }
    }
}

/// <summary>
/// Per-thread pack buffers, grown on demand and kept: a GEMM allocates nothing once its thread has seen one of
/// the same size. Pinned (so the kernels can hold raw pointers) and 64-byte aligned (so a 512-bit load never
/// straddles two cache lines).
/// </summary>
internal static unsafe class GemmBuffers
{
    [ThreadStatic] private static byte[]? t_packedA;
    [ThreadStatic] private static byte[]? t_packedB;
    [ThreadStatic] private static byte[]? t_sharedB;

    public static T* PackedA<T>(int elements) where T : unmanaged => (T*)Aligned(ref t_packedA, (nint)elements * sizeof(T));

    public static T* PackedB<T>(int elements) where T : unmanaged => (T*)Aligned(ref t_packedB, (nint)elements * sizeof(T));

    /// <summary>All of B, packed by the calling thread for every participant of one product.</summary>
    public static T* SharedB<T>(int elements) where T : unmanaged => (T*)Aligned(ref t_sharedB, (nint)elements * sizeof(T));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte* Aligned(ref byte[]? buffer, nint bytes)
    {
        if (buffer is null || buffer.Length < bytes + 64) buffer = Grow(buffer, bytes + 64);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer));
        return (byte*)((start + 63) & ~(nint)63);
    }

    private static byte[] Grow(byte[]? old, nint bytes)
    {
        long size = Math.Max(bytes, Math.Min(2L * (old?.Length ?? 0), Array.MaxLength));
        return GC.AllocateUninitializedArray<byte>(checked((int)size), pinned: true);
    }
}
