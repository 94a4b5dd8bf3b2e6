using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Backprop.Backends.Cpu;

/// <summary>
/// A GEMM micro-kernel: one MR×NR tile of C from a sliver of A (MR rows × kc) and a packed panel of B (kc × NR).
/// The tile's accumulators live in registers for the whole k loop; C is touched once at the end.
/// </summary>
/// <remarks>
/// A is read in place through two strides (row-major, column-major or a packed sliver with row stride 1 and
/// column stride MR): each step broadcasts MR values of A and multiplies them into NR/lanes vectors of B.
/// B is always packed: row p of the panel is NR contiguous values at b + p·NR.
/// </remarks>
internal unsafe interface IGemmKernel<T> where T : unmanaged
{
    /// <summary>Rows of the C tile.</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the C tile: a whole number of vectors.</summary>
    static abstract int NR { get; }

    /// <summary>Whether this machine runs the kernel in hardware.</summary>
    static abstract bool IsSupported { get; }

    /// <summary>
    /// C[r, j] = Σₚ A[r, p]·B[p, j] + D[r, j] for r &lt; MR, j &lt; NR, p &lt; kc, with A[r, p] at a + r·aRow + p·aCol,
    /// B[p, j] at b + p·NR, C[r, j] at c + r·ldc + j and D[r, j] at addend + r·addendRow + j: C itself to accumulate,
    /// a bias row (addendRow 0), or nothing when <paramref name="addend"/> is null. The sum is formed first and D added
    /// last, so the three give the bits of a product added to D afterwards.
    /// </summary>
    static abstract void Run(int kc, T* a, nint aRow, nint aCol, T* b, T* c, nint ldc, T* addend, nint addendRow);
}

/// <summary>6 × 4 vectors of 512 bits: 24 accumulators, 4 B vectors and a broadcast fill 29 of the 32 zmm registers.</summary>
internal readonly unsafe struct Avx512Kernel<T> : IGemmKernel<T> where T : unmanaged
{
    public static int MR => 6;
    public static int NR => 4 * Vector512<T>.Count;

    public static bool IsSupported => Avx512F.IsSupported && Vector512.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, nint aRow, nint aCol, T* b, T* c, nint ldc, T* addend, nint addendRow)
    {
        nint w = Vector512<T>.Count;
        nint r2 = 2 * aRow, r3 = 3 * aRow, r4 = 4 * aRow, r5 = 5 * aRow;
        Vector512<T> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<T> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<T> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<T> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<T> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<T> c50 = default, c51 = default, c52 = default, c53 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var b2 = Vector512.Load(b + 2 * w);
            var b3 = Vector512.Load(b + 3 * w);
            var x = Vector512.Create(a[0]);
            c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01); c02 = Fma(x, b2, c02); c03 = Fma(x, b3, c03);
            x = Vector512.Create(a[aRow]);
            c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11); c12 = Fma(x, b2, c12); c13 = Fma(x, b3, c13);
            x = Vector512.Create(a[r2]);
            c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21); c22 = Fma(x, b2, c22); c23 = Fma(x, b3, c23);
            x = Vector512.Create(a[r3]);
            c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31); c32 = Fma(x, b2, c32); c33 = Fma(x, b3, c33);
            x = Vector512.Create(a[r4]);
            c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41); c42 = Fma(x, b2, c42); c43 = Fma(x, b3, c43);
            x = Vector512.Create(a[r5]);
            c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51); c52 = Fma(x, b2, c52); c53 = Fma(x, b3, c53);
            a += aCol;
            b += 4 * w;
        }
        StoreRow(c, w, addend, c00, c01, c02, c03); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c10, c11, c12, c13); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c20, c21, c22, c23); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c30, c31, c32, c33); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c40, c41, c42, c43); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c50, c51, c52, c53);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, nint w, T* addend, Vector512<T> v0, Vector512<T> v1, Vector512<T> v2, Vector512<T> v3)
    {
        if (addend != null)
        {
            v0 += Vector512.Load(addend);
            v1 += Vector512.Load(addend + w);
            v2 += Vector512.Load(addend + 2 * w);
            v3 += Vector512.Load(addend + 3 * w);
        }
        v0.Store(c);
        v1.Store(c + w);
        v2.Store(c + 2 * w);
        v3.Store(c + 3 * w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Fma(Vector512<T> x, Vector512<T> y, Vector512<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Avx512F.FusedMultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        return Avx512F.FusedMultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }
}

/// <summary>
/// 8 × 2 vectors of 512 bits, for products at most two vectors wide (an attention head's [L, L]·[L, d] with d = 32):
/// the 6 × 4 tile would leave half its columns empty there, or take the transposed product and scatter every tile.
/// 16 accumulators, 2 B vectors and 8 broadcasts a step still keep both FMA ports busy.
/// </summary>
internal readonly unsafe struct Avx512NarrowKernel<T> : IGemmKernel<T> where T : unmanaged
{
    public static int MR => 8;
    public static int NR => 2 * Vector512<T>.Count;

    public static bool IsSupported => Avx512Kernel<T>.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, nint aRow, nint aCol, T* b, T* c, nint ldc, T* addend, nint addendRow)
    {
        nint w = Vector512<T>.Count;
        Vector512<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<T> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + w);
            var x = Vector512.Create(a[0]);
            c00 = Avx512Kernel<T>.Fma(x, b0, c00); c01 = Avx512Kernel<T>.Fma(x, b1, c01);
            x = Vector512.Create(a[aRow]);
            c10 = Avx512Kernel<T>.Fma(x, b0, c10); c11 = Avx512Kernel<T>.Fma(x, b1, c11);
            x = Vector512.Create(a[2 * aRow]);
            c20 = Avx512Kernel<T>.Fma(x, b0, c20); c21 = Avx512Kernel<T>.Fma(x, b1, c21);
            x = Vector512.Create(a[3 * aRow]);
            c30 = Avx512Kernel<T>.Fma(x, b0, c30); c31 = Avx512Kernel<T>.Fma(x, b1, c31);
            x = Vector512.Create(a[4 * aRow]);
            c40 = Avx512Kernel<T>.Fma(x, b0, c40); c41 = Avx512Kernel<T>.Fma(x, b1, c41);
            x = Vector512.Create(a[5 * aRow]);
            c50 = Avx512Kernel<T>.Fma(x, b0, c50); c51 = Avx512Kernel<T>.Fma(x, b1, c51);
            x = Vector512.Create(a[6 * aRow]);
            c60 = Avx512Kernel<T>.Fma(x, b0, c60); c61 = Avx512Kernel<T>.Fma(x, b1, c61);
            x = Vector512.Create(a[7 * aRow]);
            c70 = Avx512Kernel<T>.Fma(x, b0, c70); c71 = Avx512Kernel<T>.Fma(x, b1, c71);
            a += aCol;
            b += 2 * w;
        }
        StoreRow(c, w, addend, c00, c01); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c10, c11); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c20, c21); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c30, c31); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c40, c41); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c50, c51); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c60, c61); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c70, c71);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, nint w, T* addend, Vector512<T> v0, Vector512<T> v1)
    {
        if (addend != null)
        {
            v0 += Vector512.Load(addend);
            v1 += Vector512.Load(addend + w);
        }
        v0.Store(c);
        v1.Store(c + w);
    }
}

/// <summary>6 × 2 vectors of 256 bits: 12 accumulators, 2 B vectors and a broadcast fit the 16 ymm registers.</summary>
internal readonly unsafe struct Avx2Kernel<T> : IGemmKernel<T> where T : unmanaged
{
    public static int MR => 6;
    public static int NR => 2 * Vector256<T>.Count;

    public static bool IsSupported => System.Runtime.Intrinsics.X86.Fma.IsSupported && Avx2.IsSupported && Vector256.IsHardwareAccelerated;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, T* a, nint aRow, nint aCol, T* b, T* c, nint ldc, T* addend, nint addendRow)
    {
        nint w = Vector256<T>.Count;
        nint r2 = 2 * aRow, r3 = 3 * aRow, r4 = 4 * aRow, r5 = 5 * aRow;
        Vector256<T> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<T> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + w);
            var x = Vector256.Create(a[0]);
            c00 = Fma(x, b0, c00); c01 = Fma(x, b1, c01);
            x = Vector256.Create(a[aRow]);
            c10 = Fma(x, b0, c10); c11 = Fma(x, b1, c11);
            x = Vector256.Create(a[r2]);
            c20 = Fma(x, b0, c20); c21 = Fma(x, b1, c21);
            x = Vector256.Create(a[r3]);
            c30 = Fma(x, b0, c30); c31 = Fma(x, b1, c31);
            x = Vector256.Create(a[r4]);
            c40 = Fma(x, b0, c40); c41 = Fma(x, b1, c41);
            x = Vector256.Create(a[r5]);
            c50 = Fma(x, b0, c50); c51 = Fma(x, b1, c51);
            a += aCol;
            b += 2 * w;
        }
        StoreRow(c, w, addend, c00, c01); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c10, c11); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c20, c21); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c30, c31); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c40, c41); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c50, c51);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, nint w, T* addend, Vector256<T> v0, Vector256<T> v1)
    {
        if (addend != null)
        {
            v0 += Vector256.Load(addend);
            v1 += Vector256.Load(addend + w);
        }
        v0.Store(c);
        v1.Store(c + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<T> Fma(Vector256<T> x, Vector256<T> y, Vector256<T> acc)
    {
        if (typeof(T) == typeof(float))
            return System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(x.AsSingle(), y.AsSingle(), acc.AsSingle()).As<float, T>();
        return System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(x.AsDouble(), y.AsDouble(), acc.AsDouble()).As<double, T>();
    }
}

/// <summary>
/// 4 × 2 vectors of <see cref="Vector{T}"/>: the fallback for any hardware (or none: Vector&lt;T&gt; is then
/// software). Multiply-add is fused where the hardware has it and separate where it does not.
/// </summary>
internal readonly unsafe struct PortableKernel<T> : IGemmKernel<T> where T : unmanaged
{
    public static int MR => 4;
    public static int NR => 2 * Vector<T>.Count;

    public static bool IsSupported => true;

    public static void Run(int kc, T* a, nint aRow, nint aCol, T* b, T* c, nint ldc, T* addend, nint addendRow)
    {
        int w = Vector<T>.Count;
        nint r2 = 2 * aRow, r3 = 3 * aRow;
        Vector<T> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<T> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector.Load(b);
            var b1 = Vector.Load(b + w);
            var x = new Vector<T>(a[0]);
            c00 = MultiplyAdd(x, b0, c00); c01 = MultiplyAdd(x, b1, c01);
            x = new Vector<T>(a[aRow]);
            c10 = MultiplyAdd(x, b0, c10); c11 = MultiplyAdd(x, b1, c11);
            x = new Vector<T>(a[r2]);
            c20 = MultiplyAdd(x, b0, c20); c21 = MultiplyAdd(x, b1, c21);
            x = new Vector<T>(a[r3]);
            c30 = MultiplyAdd(x, b0, c30); c31 = MultiplyAdd(x, b1, c31);
            a += aCol;
            b += 2 * w;
        }
        StoreRow(c, w, addend, c00, c01); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c10, c11); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c20, c21); c += ldc; addend += addendRow;
        StoreRow(c, w, addend, c30, c31);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(T* c, int w, T* addend, Vector<T> v0, Vector<T> v1)
    {
        if (addend != null)
        {
            v0 += Vector.Load(addend);
            v1 += Vector.Load(addend + w);
        }
        v0.Store(c);
        v1.Store(c + w);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> MultiplyAdd(Vector<T> x, Vector<T> y, Vector<T> acc)
    {
        if (typeof(T) == typeof(float))
            return Vector.As<float, T>(Vector.MultiplyAddEstimate(Vector.As<T, float>(x), Vector.As<T, float>(y), Vector.As<T, float>(acc)));
        return Vector.As<double, T>(Vector.MultiplyAddEstimate(Vector.As<T, double>(x), Vector.As<T, double>(y), Vector.As<T, double>(acc)));
    }
}
