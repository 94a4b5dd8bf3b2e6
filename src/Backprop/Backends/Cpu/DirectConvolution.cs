using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop.Backends.Cpu;

/// <summary>
/// Stride-1 convolutions (and, through them, stride-1 transposed convolutions and weight gradients) computed straight
/// from a zero-padded copy of each sample, with no im2col matrix and no GEMM packing.
/// </summary>
/// <remarks>
/// Each input plane is copied into rows of Wp = OW + (kw − 1)·dw values, the padding around it zero. In that layout
/// kernel tap (i, j) of output position q = oh·Wp + ow reads position q + i·dh·Wp + j·dw: one shift per tap for the
/// whole plane, so a vector of consecutive outputs reads a vector of consecutive inputs. The outputs are computed in
/// the same layout (the last Wp − OW values of each row are thrown away) and copied out. For the small channel counts
/// of the convolutions people train on a CPU (tens of channels, maps of a few hundred positions) this does the
/// multiply-adds of im2col + GEMM without writing the column matrix, packing it, or padding GEMM tiles to 6 × 64.
/// The register tiles are 4 output channels × 6 vectors of positions (24 accumulators), for the convolution and for
/// its weight gradient (4 output channels × 6 of the weight's (channel, tap) pairs); a block at the end of a range
/// overlaps the one before it instead of running short, which is harmless because each tile overwrites its results.
/// </remarks>
internal static unsafe class DirectConvolution
{
    private const int Channels = 4;
    private const int Vectors = 6;

    /// <summary>Samples whose weight gradients are summed together before their partial joins the others.</summary>
    private const int ChunkSamples = 8;

    /// <summary>
    /// Whether the direct kernels take a convolution producing <paramref name="outH"/>×<paramref name="outW"/> maps:
    /// stride 1, hardware vectors, and at least one full tile of positions.
    /// </summary>
    public static bool Supports<T>(Window2d window, int outH, int outW) where T : unmanaged =>
        window.Stride == new Size2d(1, 1) && Vector.IsHardwareAccelerated && Vector<T>.IsSupported
        && new Layout(outH, outW, window, Vector<T>.Count).VectorCount >= Vectors;

    /// <summary>The padded layout of one sample's planes for a stride-1 window producing outH × outW.</summary>
    private readonly struct Layout
    {
        public Layout(int outH, int outW, Window2d window, int lanes)
        {
            int kh = window.Kernel.Height, kw = window.Kernel.Width, dh = window.Dilation.Height, dw = window.Dilation.Width;
            RowLength = outW + (kw - 1) * dw;
            Rows = outH + (kh - 1) * dh;
            VectorCount = (outH * RowLength + lanes - 1) / lanes;
            int maxShift = (kh - 1) * dh * RowLength + (kw - 1) * dw;
            // Vector reads of the last outputs reach maxShift past them; the slack beyond the plane stays zero.
            PlaneLength = Math.Max(Rows * RowLength, VectorCount * lanes + maxShift);
            PlaneLength = (PlaneLength + lanes - 1) / lanes * lanes;
            OutputRow = VectorCount * lanes;
            Shifts = new int[kh * kw];
            for (int i = 0; i < kh; i++)
                for (int j = 0; j < kw; j++)
                    Shifts[i * kw + j] = i * dh * RowLength + j * dw;
        }

        /// <summary>Wp: the padded row length, which is also the row length of the outputs computed.</summary>
        public int RowLength { get; }

        /// <summary>Hp: rows of the padded plane.</summary>
        public int Rows { get; }

        /// <summary>Vectors of output positions per plane (OH·Wp rounded up).</summary>
        public int VectorCount { get; }

        /// <summary>Elements per padded input plane, slack included.</summary>
        public int PlaneLength { get; }

        /// <summary>Elements per output (or output-gradient) plane in the padded layout.</summary>
        public int OutputRow { get; }

        /// <summary>Where each tap (i, j), row-major, reads relative to the output position.</summary>
        public int[] Shifts { get; }
    }

    /// <summary>
    /// y[n, o] = bias[o] + Σ over o's group of channels c and taps t of w[o, c, t]·x[n, c] read at the tap, with x
    /// placed at (padTop, padLeft) in the padded plane (negative: rows or columns cropped) and zeros elsewhere.
    /// </summary>
    /// <param name="w">Contiguous [O, C/groups, kh, kw] from <paramref name="wOffset"/>.</param>
    /// <param name="y">Contiguous [N, O, OH, OW] from <paramref name="yOffset"/>.</param>
    public static void Forward<T>(T[] x, int xOrigin, int[] xStrides, int[] xShape, T[] w, int wOffset, T[]? bias, T[] y, int yOffset,
        int outChannels, Window2d window, int groups, int padTop, int padLeft, int outH, int outW, Action<int, long, Action<int, int, int>> forRanges)
        where T : unmanaged, INumberBase<T>
    {
        if (!Supports<T>(window, outH, outW)) throw new ArgumentException($"DirectConvolution: {window} producing {outH}×{outW} needs the im2col path.");
        int n = xShape[0], c = xShape[1], cg = c / groups, og = outChannels / groups;
        var layout = new Layout(outH, outW, window, Vector<T>.Count);
        int taps = window.Kernel.Height * window.Kernel.Width, k = cg * taps;
        forRanges(n, (long)outChannels * k * layout.OutputRow, (_, start, end) =>
        {
            T[] padded = ArrayPool<T>.Shared.Rent(c * layout.PlaneLength);
            T[] outputs = ArrayPool<T>.Shared.Rent(outChannels * layout.OutputRow);
            try
            {
                fixed (T* xp = padded, yp = outputs, wp = w, bp = bias, result = y)
                fixed (int* shifts = layout.Shifts)
                {
                    for (int s = start; s < end; s++)
                    {
                        PadSample(x, xOrigin + s * xStrides[0], xStrides, c, xShape[2], xShape[3], xp, layout.PlaneLength, layout.Rows, layout.RowLength,
                            padTop, padLeft);
                        for (int g = 0; g < groups; g++)
                        {
                            T* input = xp + (nint)g * cg * layout.PlaneLength;
                            for (int ob = 0; ob < og; ob = NextBlock(ob, og, Channels))
                            {
                                int o = g * og + Block(ob, og, Channels);
                                for (int vb = 0; vb < layout.VectorCount; vb = NextBlock(vb, layout.VectorCount, Vectors))
                                {
                                    int v = Block(vb, layout.VectorCount, Vectors) * Vector<T>.Count;
                                    T* target = yp + (nint)o * layout.OutputRow + v;
                                    T* weights = wp + wOffset + (nint)o * k;
                                    if (og >= Channels)
                                        ForwardTile(input + v, layout.PlaneLength, cg, shifts, taps, weights, k, bias is null ? null : bp + o, target, layout.OutputRow);
                                    else
                                        ForwardRow(input + v, layout.PlaneLength, cg, shifts, taps, weights, bias is null ? null : bp + o, target);
                                }
                            }
                        }
                        T* output = result + yOffset + (nint)s * outChannels * outH * outW;
                        for (int o = 0; o < outChannels; o++)
                            for (int r = 0; r < outH; r++)
                                CopyRow(yp + (nint)o * layout.OutputRow + r * layout.RowLength, output + ((nint)o * outH + r) * outW, outW);
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(padded);
                ArrayPool<T>.Shared.Return(outputs);
            }
        });
    }

    /// <summary>
    /// gradWeight[o, c, t] = Σ over n and output positions of g[n, o]·x[n, c′] read at tap t (c′ the channel c of o's
    /// group), x padded by the window's padding. Samples are summed in chunks of a fixed size, and the chunks in order,
    /// so the result does not depend on the number of threads.
    /// </summary>
    /// <param name="gradWeight">Receives contiguous [O, C/groups, kh, kw].</param>
    public static void WeightGrad<T>(T[] x, int xOrigin, int[] xStrides, int[] xShape, T[] g, int gOrigin, int[] gStrides, int[] gShape,
        T[] gradWeight, Window2d window, int groups, Action<int, long, Action<int, int, int>> forRanges)
        where T : unmanaged, INumberBase<T>
    {
        int n = xShape[0], c = xShape[1], cg = c / groups, o = gShape[1], og = o / groups, outH = gShape[2], outW = gShape[3];
        if (!SupportsWeightGrad<T>(window, outH, outW, cg))
            throw new ArgumentException($"DirectConvolution: the weight gradient of {window} over {outH}×{outW} needs the im2col path.");
        var layout = new Layout(outH, outW, window, Vector<T>.Count);
        int taps = window.Kernel.Height * window.Kernel.Width, k = cg * taps;
        int chunks = (n + ChunkSamples - 1) / ChunkSamples;
        var partials = ArrayPool<T>.Shared.Rent(chunks * o * k);
        try
        {
            forRanges(chunks, (long)ChunkSamples * o * k * layout.OutputRow, (_, first, last) =>
            {
                T[] padded = ArrayPool<T>.Shared.Rent(ChunkSamples * c * layout.PlaneLength);
                T[] gradients = ArrayPool<T>.Shared.Rent(ChunkSamples * o * layout.OutputRow);
                var accumulators = new Vector<T>[Channels * Vectors];
                var offsets = new int[Vectors];
                try
                {
                    fixed (T* xp = padded, gp = gradients, sums = partials)
                    fixed (Vector<T>* acc = accumulators)
                    fixed (int* offset = offsets)
                    {
                        for (int chunk = first; chunk < last; chunk++)
                        {
                            int s0 = chunk * ChunkSamples, count = Math.Min(ChunkSamples, n - s0);
                            for (int s = 0; s < count; s++)
                            {
                                PadSample(x, xOrigin + (s0 + s) * xStrides[0], xStrides, c, xShape[2], xShape[3], xp + (nint)s * c * layout.PlaneLength,
                                    layout.PlaneLength, layout.Rows, layout.RowLength, window.Padding.Height, window.Padding.Width);
                                // The gradient in the outputs' row layout, zero in the columns past OW and after the last row.
                                PadSample(g, gOrigin + (s0 + s) * gStrides[0], gStrides, o, outH, outW, gp + (nint)s * o * layout.OutputRow,
                                    layout.OutputRow, outH, layout.RowLength, 0, 0);
                            }
                            T* partial = sums + (nint)chunk * o * k;
                            for (int group = 0; group < groups; group++)
                            {
                                for (int ob = 0; ob < og; ob = NextBlock(ob, og, Channels))
                                {
                                    int oc = group * og + Block(ob, og, Channels);
                                    int rows = og >= Channels ? Channels : 1;
                                    for (int kb = 0; kb < k; kb = NextBlock(kb, k, Vectors))
                                    {
                                        int k0 = Block(kb, k, Vectors);
                                        for (int i = 0; i < Vectors; i++)
                                        {
                                            int ct = k0 + i;
                                            offset[i] = (group * cg + ct / taps) * layout.PlaneLength + layout.Shifts[ct % taps];
                                        }
                                        new Span<Vector<T>>(acc, Channels * Vectors).Clear();
                                        for (int s = 0; s < count; s++)
                                        {
                                            T* gradient = gp + ((nint)s * o + oc) * layout.OutputRow;
                                            T* input = xp + (nint)s * c * layout.PlaneLength;
                                            if (rows == Channels)
                                                WeightGradTile(gradient, layout.OutputRow, input, offset, layout.VectorCount, acc);
                                            else
                                                WeightGradRow(gradient, input, offset, layout.VectorCount, acc);
                                        }
                                        for (int r = 0; r < rows; r++)
                                            for (int i = 0; i < Vectors; i++)
                                                partial[(oc + r) * k + k0 + i] = Vector.Sum(acc[r * Vectors + i]);
                                    }
                                }
                            }
                        }
                    }
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(padded);
                    ArrayPool<T>.Shared.Return(gradients);
                }
            });
            var total = gradWeight.AsSpan(0, o * k);
            partials.AsSpan(0, o * k).CopyTo(total);
            for (int chunk = 1; chunk < chunks; chunk++)
            {
                var part = partials.AsSpan(chunk * o * k, o * k);
                for (int i = 0; i < total.Length; i++) total[i] += part[i];
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(partials);
        }
    }

    /// <summary>Whether a weight gradient has enough (channel, tap) pairs per group for the direct kernel's tiles.</summary>
    public static bool SupportsWeightGrad<T>(Window2d window, int outH, int outW, int channelsPerGroup) where T : unmanaged =>
        Supports<T>(window, outH, outW) && channelsPerGroup * window.Kernel.Height * window.Kernel.Width >= Vectors;

    /// <summary>The start of the block at <paramref name="index"/>: pulled back so a full block ends at <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Block(int index, int count, int size) => count >= size ? Math.Min(index, count - size) : index;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int NextBlock(int index, int count, int size) => count >= size ? index + size : index + 1;

    /// <summary>
    /// Writes one sample [C, H, W] (strided) into planes of <paramref name="planeLength"/> values holding
    /// <paramref name="rows"/> rows of <paramref name="rowLength"/>, its top-left at (padTop, padLeft) and what falls
    /// outside cropped; everything else is zero.
    /// </summary>
    private static void PadSample<T>(T[] source, int origin, int[] strides, int channels, int height, int width,
        T* target, int planeLength, int rows, int rowLength, int padTop, int padLeft) where T : unmanaged
    {
        new Span<T>(target, channels * planeLength).Clear();
        int r0 = Math.Max(0, -padTop), r1 = Math.Min(height, rows - padTop);
        int c0 = Math.Max(0, -padLeft), c1 = Math.Min(width, rowLength - padLeft);
        if (c0 >= c1) return;
        int cs = strides[1], hs = strides[2], ws = strides[3];
        fixed (T* data = source)
        {
            for (int ch = 0; ch < channels; ch++)
            {
                T* plane = target + (nint)ch * planeLength;
                for (int r = r0; r < r1; r++)
                {
                    T* from = data + origin + ch * cs + r * hs;
                    T* to = plane + (nint)(r + padTop) * rowLength + padLeft;
                    if (ws == 1)
                        CopyRow(from + c0, to + c0, c1 - c0);
                    else
                        for (int col = c0; col < c1; col++) to[col] = from[col * ws];
                }
            }
        }
    }

    /// <summary>
    /// Copies a short row with whole vectors, the last one ending at the row's end (overlapping the one before), so a
    /// row of a few dozen values costs a few instructions instead of a call to memmove.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow<T>(T* from, T* to, int count) where T : unmanaged
    {
        int n = Vector<T>.Count;
        if (count < n)
        {
            for (int i = 0; i < count; i++) to[i] = from[i];
            return;
        }
        int last = count - n;
        for (int i = 0; i < last; i += n) Vector.Load(from + i).Store(to + i);
        Vector.Load(from + last).Store(to + last);
    }

    /// <summary>4 output channels × 6 vectors of positions: Σ over channels and taps, started from the bias.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardTile<T>(T* x, nint planeLength, int channels, int* shifts, int taps, T* w, nint wRow, T* bias, T* y, nint yRow)
        where T : unmanaged, INumberBase<T>
    {
        nint n = Vector<T>.Count;
        Vector<T> a00, a01, a02, a03, a04, a05, a10, a11, a12, a13, a14, a15;
        Vector<T> a20, a21, a22, a23, a24, a25, a30, a31, a32, a33, a34, a35;
        a00 = a01 = a02 = a03 = a04 = a05 = bias is null ? Vector<T>.Zero : new Vector<T>(bias[0]);
        a10 = a11 = a12 = a13 = a14 = a15 = bias is null ? Vector<T>.Zero : new Vector<T>(bias[1]);
        a20 = a21 = a22 = a23 = a24 = a25 = bias is null ? Vector<T>.Zero : new Vector<T>(bias[2]);
        a30 = a31 = a32 = a33 = a34 = a35 = bias is null ? Vector<T>.Zero : new Vector<T>(bias[3]);
        T* w0 = w, w1 = w + wRow, w2 = w + 2 * wRow, w3 = w + 3 * wRow;
        for (int c = 0; c < channels; c++, x += planeLength, w0 += taps, w1 += taps, w2 += taps, w3 += taps)
        {
            for (int t = 0; t < taps; t++)
            {
                T* p = x + shifts[t];
                var b0 = new Vector<T>(w0[t]);
                var b1 = new Vector<T>(w1[t]);
                var b2 = new Vector<T>(w2[t]);
                var b3 = new Vector<T>(w3[t]);
                var v = Vector.Load(p);
                a00 = Fma(b0, v, a00); a10 = Fma(b1, v, a10); a20 = Fma(b2, v, a20); a30 = Fma(b3, v, a30);
                v = Vector.Load(p + n);
                a01 = Fma(b0, v, a01); a11 = Fma(b1, v, a11); a21 = Fma(b2, v, a21); a31 = Fma(b3, v, a31);
                v = Vector.Load(p + 2 * n);
                a02 = Fma(b0, v, a02); a12 = Fma(b1, v, a12); a22 = Fma(b2, v, a22); a32 = Fma(b3, v, a32);
                v = Vector.Load(p + 3 * n);
                a03 = Fma(b0, v, a03); a13 = Fma(b1, v, a13); a23 = Fma(b2, v, a23); a33 = Fma(b3, v, a33);
                v = Vector.Load(p + 4 * n);
                a04 = Fma(b0, v, a04); a14 = Fma(b1, v, a14); a24 = Fma(b2, v, a24); a34 = Fma(b3, v, a34);
                v = Vector.Load(p + 5 * n);
                a05 = Fma(b0, v, a05); a15 = Fma(b1, v, a15); a25 = Fma(b2, v, a25); a35 = Fma(b3, v, a35);
            }
        }
        Store(y, n, a00, a01, a02, a03, a04, a05);
        Store(y + yRow, n, a10, a11, a12, a13, a14, a15);
        Store(y + 2 * yRow, n, a20, a21, a22, a23, a24, a25);
        Store(y + 3 * yRow, n, a30, a31, a32, a33, a34, a35);
    }

    /// <summary>One output channel × 6 vectors, for groups of fewer than 4 output channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardRow<T>(T* x, nint planeLength, int channels, int* shifts, int taps, T* w, T* bias, T* y)
        where T : unmanaged, INumberBase<T>
    {
        nint n = Vector<T>.Count;
        Vector<T> a0, a1, a2, a3, a4, a5;
        a0 = a1 = a2 = a3 = a4 = a5 = bias is null ? Vector<T>.Zero : new Vector<T>(bias[0]);
        for (int c = 0; c < channels; c++, x += planeLength, w += taps)
        {
            for (int t = 0; t < taps; t++)
            {
                T* p = x + shifts[t];
                var b = new Vector<T>(w[t]);
                a0 = Fma(b, Vector.Load(p), a0);
                a1 = Fma(b, Vector.Load(p + n), a1);
                a2 = Fma(b, Vector.Load(p + 2 * n), a2);
                a3 = Fma(b, Vector.Load(p + 3 * n), a3);
                a4 = Fma(b, Vector.Load(p + 4 * n), a4);
                a5 = Fma(b, Vector.Load(p + 5 * n), a5);
            }
        }
        Store(y, n, a0, a1, a2, a3, a4, a5);
    }

    /// <summary>
    /// acc[r·6 + i] += Σ over the plane's vectors of g[r]·x[offset[i]] for 4 gradient rows r and 6 (channel, tap)
    /// offsets i: 4 + 6 loads feed 24 multiply-adds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradTile<T>(T* g, nint gRow, T* x, int* offset, int vectors, Vector<T>* acc)
        where T : unmanaged, INumberBase<T>
    {
        nint n = Vector<T>.Count;
        var a00 = acc[0]; var a01 = acc[1]; var a02 = acc[2]; var a03 = acc[3]; var a04 = acc[4]; var a05 = acc[5];
        var a10 = acc[6]; var a11 = acc[7]; var a12 = acc[8]; var a13 = acc[9]; var a14 = acc[10]; var a15 = acc[11];
        var a20 = acc[12]; var a21 = acc[13]; var a22 = acc[14]; var a23 = acc[15]; var a24 = acc[16]; var a25 = acc[17];
        var a30 = acc[18]; var a31 = acc[19]; var a32 = acc[20]; var a33 = acc[21]; var a34 = acc[22]; var a35 = acc[23];
        T* x0 = x + offset[0], x1 = x + offset[1], x2 = x + offset[2], x3 = x + offset[3], x4 = x + offset[4], x5 = x + offset[5];
        for (nint i = 0; i < vectors * n; i += n)
        {
            var g0 = Vector.Load(g + i);
            var g1 = Vector.Load(g + gRow + i);
            var g2 = Vector.Load(g + 2 * gRow + i);
            var g3 = Vector.Load(g + 3 * gRow + i);
            var v = Vector.Load(x0 + i);
            a00 = Fma(g0, v, a00); a10 = Fma(g1, v, a10); a20 = Fma(g2, v, a20); a30 = Fma(g3, v, a30);
            v = Vector.Load(x1 + i);
            a01 = Fma(g0, v, a01); a11 = Fma(g1, v, a11); a21 = Fma(g2, v, a21); a31 = Fma(g3, v, a31);
            v = Vector.Load(x2 + i);
            a02 = Fma(g0, v, a02); a12 = Fma(g1, v, a12); a22 = Fma(g2, v, a22); a32 = Fma(g3, v, a32);
            v = Vector.Load(x3 + i);
            a03 = Fma(g0, v, a03); a13 = Fma(g1, v, a13); a23 = Fma(g2, v, a23); a33 = Fma(g3, v, a33);
            v = Vector.Load(x4 + i);
            a04 = Fma(g0, v, a04); a14 = Fma(g1, v, a14); a24 = Fma(g2, v, a24); a34 = Fma(g3, v, a34);
            v = Vector.Load(x5 + i);
            a05 = Fma(g0, v, a05); a15 = Fma(g1, v, a15); a25 = Fma(g2, v, a25); a35 = Fma(g3, v, a35);
        }
        acc[0] = a00; acc[1] = a01; acc[2] = a02; acc[3] = a03; acc[4] = a04; acc[5] = a05;
        acc[6] = a10; acc[7] = a11; acc[8] = a12; acc[9] = a13; acc[10] = a14; acc[11] = a15;
        acc[12] = a20; acc[13] = a21; acc[14] = a22; acc[15] = a23; acc[16] = a24; acc[17] = a25;
        acc[18] = a30; acc[19] = a31; acc[20] = a32; acc[21] = a33; acc[22] = a34; acc[23] = a35;
    }

    /// <summary>One gradient row × 6 offsets, for groups of fewer than 4 output channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WeightGradRow<T>(T* g, T* x, int* offset, int vectors, Vector<T>* acc)
        where T : unmanaged, INumberBase<T>
    {
        nint n = Vector<T>.Count;
        var a0 = acc[0]; var a1 = acc[1]; var a2 = acc[2]; var a3 = acc[3]; var a4 = acc[4]; var a5 = acc[5];
        T* x0 = x + offset[0], x1 = x + offset[1], x2 = x + offset[2], x3 = x + offset[3], x4 = x + offset[4], x5 = x + offset[5];
        for (nint i = 0; i < vectors * n; i += n)
        {
            var gv = Vector.Load(g + i);
            a0 = Fma(gv, Vector.Load(x0 + i), a0);
            a1 = Fma(gv, Vector.Load(x1 + i), a1);
            a2 = Fma(gv, Vector.Load(x2 + i), a2);
            a3 = Fma(gv, Vector.Load(x3 + i), a3);
            a4 = Fma(gv, Vector.Load(x4 + i), a4);
            a5 = Fma(gv, Vector.Load(x5 + i), a5);
        }
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* y, nint n, Vector<T> v0, Vector<T> v1, Vector<T> v2, Vector<T> v3, Vector<T> v4, Vector<T> v5)
        where T : unmanaged
    {
        v0.Store(y);
        v1.Store(y + n);
        v2.Store(y + 2 * n);
        v3.Store(y + 3 * n);
        v4.Store(y + 4 * n);
        v5.Store(y + 5 * n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Fma<T>(Vector<T> x, Vector<T> y, Vector<T> acc) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            return Vector.As<float, T>(Vector.MultiplyAddEstimate(Vector.As<T, float>(x), Vector.As<T, float>(y), Vector.As<T, float>(acc)));
        return Vector.As<double, T>(Vector.MultiplyAddEstimate(Vector.As<T, double>(x), Vector.As<T, double>(y), Vector.As<T, double>(acc)));
    }
}
