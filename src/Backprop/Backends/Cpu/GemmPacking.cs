using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

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
        for (int j0 = 0; j0 < nc; j0 += nr, dst += (nint)kc * nr)
        {
            int cols = Math.Min(nr, nc - j0);
            T* src = b + j0 * bCol;
            if (bCol == 1)
            {
                nint bytes = cols * sizeof(T);
                for (int p = 0; p < kc; p++)
                {
                    T* row = dst + (nint)p * nr;
                    Buffer.MemoryCopy(src + p * bRow, row, bytes, bytes);
                    if (cols < nr) new Span<T>(row + cols, nr - cols).Clear();
                }
            }
            else if (bRow == 1)
            {
                // Column-major source (a transposed view): read each column contiguously, write it down the panel.
                if (cols < nr) new Span<T>(dst, kc * nr).Clear();
                for (int j = 0; j < cols; j++)
                {
                    T* column = src + j * bCol;
                    T* target = dst + j;
                    for (int p = 0; p < kc; p++) target[(nint)p * nr] = column[p];
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

    public static T* PackedA<T>(int elements) where T : unmanaged => (T*)Aligned(ref t_packedA, (nint)elements * sizeof(T));

    public static T* PackedB<T>(int elements) where T : unmanaged => (T*)Aligned(ref t_packedB, (nint)elements * sizeof(T));

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
