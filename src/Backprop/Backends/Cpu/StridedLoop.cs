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

    /// <summary>
    /// Merges the dims of a walk from the innermost outwards (size-1 dims dropped, neighbours merged where every
    /// operand steps through them as one); returns how many remain, innermost first, or −1 when a dim is empty.
    /// </summary>
    private static int Coalesce(int[] shape, int operands, int[] st0, int[] st1, int[] st2, int[] st3,
        Span<int> dims, Span<int> s0, Span<int> s1, Span<int> s2, Span<int> s3)
    {
        int r = 0;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            int size = shape[i];
            if (size == 0) return -1;
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
        return r;
    }

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
        int r = Coalesce(shape, operands, st0, st1, st2, st3, dims, s0, s1, s2, s3);
        if (r < 0) return;
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

    /// <summary>
    /// <see cref="Run{TKernel}(ref TKernel, int[], in StridedView, in StridedView, in StridedView)"/> for element-wise
    /// kernels that only write v0, element by element: once the walk has at least <paramref name="parallelMin"/>
    /// elements in several rows, its rows are split across the cores. Each element is computed exactly as the serial
    /// walk computes it. An output that a broadcast dim makes overlap itself is walked serially.
    /// </summary>
    public static void RunElementwise<TKernel>(TKernel kernel, int[] shape, in StridedView v0, in StridedView v1, in StridedView v2,
        int parallelMin) where TKernel : struct, IRowKernel
    {
        if (v0.NumElements >= parallelMin && CpuParallel.ThreadCount > 1)
        {
            int rank = Math.Max(shape.Length, 1);
            int[] dims = new int[rank], s0 = new int[rank], s1 = new int[rank], s2 = new int[rank], s3 = new int[rank];
            int r = Coalesce(shape, 3, v0.Strides, v1.Strides, v2.Strides, v2.Strides, dims, s0, s1, s2, s3);
            bool overlaps = false;
            for (int k = 0; k < r; k++) overlaps |= s0[k] == 0;
            if (r == 1 && !overlaps)
            {
                // One long row (contiguous operands): split it into runs.
                var pieces = new RowPieces<TKernel>(kernel, s0[0], s1[0], s2[0], v0.Offset, v1.Offset, v2.Offset);
                CpuParallel.For(dims[0], ref pieces, parallelMin / 2);
                return;
            }
            if (r > 1 && !overlaps)
            {
                var body = new ElementwiseRows<TKernel>(kernel, r, dims, s0, s1, s2, v0.Offset, v1.Offset, v2.Offset);
                CpuParallel.For(v0.NumElements / dims[0], ref body, Math.Max(1, parallelMin / 2 / dims[0]));
                return;
            }
        }
        Run(ref kernel, shape, 3, v0.Strides, v0.Offset, v1.Strides, v1.Offset, v2.Strides, v2.Offset, v2.Strides, 0);
    }

    /// <inheritdoc cref="RunElementwise{TKernel}(TKernel, int[], in StridedView, in StridedView, in StridedView, int)"/>
    public static void RunElementwise<TKernel>(TKernel kernel, int[] shape, in StridedView v0, in StridedView v1, int parallelMin)
        where TKernel : struct, IRowKernel => RunElementwise(kernel, shape, v0, v1, v1, parallelMin);

    /// <summary>Elements [start, end) of a walk that coalesced into one row.</summary>
    private readonly struct RowPieces<TKernel>(TKernel kernel, int s0, int s1, int s2, int o0, int o1, int o2) : IParallelBody
        where TKernel : struct, IRowKernel
    {
        public void Execute(int start, int end)
        {
            var rowKernel = kernel;
            rowKernel.Row(end - start, o0 + start * s0, s0, o1 + start * s1, s1, o2 + start * s2, s2, 0, 0);
        }
    }

    /// <summary>Rows [start, end) of a coalesced walk (dims and strides innermost first).</summary>
    private readonly struct ElementwiseRows<TKernel>(TKernel kernel, int r, int[] dims, int[] s0, int[] s1, int[] s2, int o0, int o1, int o2)
        : IParallelBody where TKernel : struct, IRowKernel
    {
        [SkipLocalsInit]
        public void Execute(int start, int end)
        {
            Span<int> index = stackalloc int[r];
            int a = o0, b = o1, c = o2;
            for (int k = 1, rest = start; k < r; k++)
            {
                index[k] = rest % dims[k];
                rest /= dims[k];
                a += index[k] * s0[k]; b += index[k] * s1[k]; c += index[k] * s2[k];
            }
            var rowKernel = kernel;
            for (int row = start; row < end; row++)
            {
                rowKernel.Row(dims[0], a, s0[0], b, s1[0], c, s2[0], 0, 0);
                for (int k = 1; k < r; k++)
                {
                    a += s0[k]; b += s1[k]; c += s2[k];
                    if (++index[k] < dims[k]) break;
                    a -= s0[k] * dims[k]; b -= s1[k] * dims[k]; c -= s2[k] * dims[k];
                    index[k] = 0;
                }
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
