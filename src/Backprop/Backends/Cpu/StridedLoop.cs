using System.Runtime.CompilerServices;

namespace Backprop.Backends.Cpu;

/// <summary>A kernel applied to one row of up to four operands: <c>n</c> elements from each base offset, at each stride.</summary>
internal interface IRowKernel
{
    void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3);
}

/// <summary>
/// Walks operands of one logical shape, each with its own strides, one innermost row at a time.
/// Dimensions are first coalesced (size-1 dims dropped, mergeable neighbours merged), so a contiguous or
/// row-wise contiguous layout reaches the kernel as few long rows with stride 1.
/// </summary>
internal static class StridedLoop
{
    public static void Run<TKernel>(ref TKernel kernel, int[] shape, in StridedView v0, in StridedView v1)
        where TKernel : struct, IRowKernel =>
        Run(ref kernel, shape, 2, v0.Strides, v0.Offset, v1.Strides, v1.Offset, v1.Strides, 0, v1.Strides, 0);

    public static void Run<TKernel>(ref TKernel kernel, int[] shape, in StridedView v0, in StridedView v1, in StridedView v2)
        where TKernel : struct, IRowKernel =>
        Run(ref kernel, shape, 3, v0.Strides, v0.Offset, v1.Strides, v1.Offset, v2.Strides, v2.Offset, v2.Strides, 0);

    public static void Run<TKernel>(ref TKernel kernel, int[] shape, in StridedView v0, in StridedView v1, in StridedView v2, in StridedView v3)
        where TKernel : struct, IRowKernel =>
        Run(ref kernel, shape, 4, v0.Strides, v0.Offset, v1.Strides, v1.Offset, v2.Strides, v2.Offset, v3.Strides, v3.Offset);

    [SkipLocalsInit]
    private static void Run<TKernel>(ref TKernel kernel, int[] shape, int operands,
        int[] st0, int o0, int[] st1, int o1, int[] st2, int o2, int[] st3, int o3)
        where TKernel : struct, IRowKernel
    {
        int rank = shape.Length;
        Span<int> dims = stackalloc int[Math.Max(rank, 1)];
        Span<int> s0 = stackalloc int[Math.Max(rank, 1)];
        Span<int> s1 = stackalloc int[Math.Max(rank, 1)];
        Span<int> s2 = stackalloc int[Math.Max(rank, 1)];
        Span<int> s3 = stackalloc int[Math.Max(rank, 1)];

        // Coalesce from the innermost dimension outwards.
        int r = 0;
        for (int i = rank - 1; i >= 0; i--)
        {
            int size = shape[i];
            if (size == 0) return;
            if (size == 1) continue;
            int a = st0[i], b = st1[i], c = operands > 2 ? st2[i] : 0, d = operands > 3 ? st3[i] : 0;
            if (r > 0 && a == s0[r - 1] * dims[r - 1] && b == s1[r - 1] * dims[r - 1]
                && c == s2[r - 1] * dims[r - 1] && d == s3[r - 1] * dims[r - 1])
            {
                dims[r - 1] *= size;
                continue;
            }
            dims[r] = size; s0[r] = a; s1[r] = b; s2[r] = c; s3[r] = d;
            r++;
        }
        if (r == 0)
        {
            kernel.Row(1, o0, 0, o1, 0, o2, 0, o3, 0);
            return;
        }
        // dims[0] is now the innermost dimension; the rest are outer, innermost first.
        int n = dims[0];
        if (r == 1)
        {
            kernel.Row(n, o0, s0[0], o1, s1[0], o2, s2[0], o3, s3[0]);
            return;
        }
        Span<int> index = stackalloc int[r];
        index.Clear();
        while (true)
        {
            kernel.Row(n, o0, s0[0], o1, s1[0], o2, s2[0], o3, s3[0]);
            int k = 1;
            while (true)
            {
                if (k == r) return;
                index[k]++;
                o0 += s0[k]; o1 += s1[k]; o2 += s2[k]; o3 += s3[k];
                if (index[k] < dims[k]) break;
                o0 -= s0[k] * dims[k]; o1 -= s1[k] * dims[k]; o2 -= s2[k] * dims[k]; o3 -= s3[k] * dims[k];
                index[k] = 0;
                k++;
            }
        }
    }

    /// <summary>The element offsets of a view, in row-major order of its logical index.</summary>
    public static int[] Offsets(in StridedView view)
    {
        var collector = new OffsetCollector(new int[view.NumElements]);
        Run(ref collector, view.Shape, view, view);
        return collector.Offsets;
    }

    private struct OffsetCollector(int[] offsets) : IRowKernel
    {
        public readonly int[] Offsets = offsets;
        private int _next;

        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            for (int i = 0; i < n; i++) Offsets[_next++] = o0 + i * s0;
        }
    }

}
