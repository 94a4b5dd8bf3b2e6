using System.Buffers;

namespace Backprop.Backends.Cpu;

/// <summary>
/// Max pooling of whole planes, vectorised across a plane's outputs: each kernel tap gathers its input value for
/// every output (OH·OW of them, laid out flat) and compares them all at once against the running maxima, keeping
/// which tap won. A per-output scalar loop spends most of its time on mispredicted comparisons of random data;
/// lane-wise selects have no branches, and flattening the plane keeps the vectors full even for narrow maps.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <typeparam name="TIndex">An integer of T's width (int for float, long for double), so value and tap lanes line up.</typeparam>
internal static class MaxPoolPlanes<T, TIndex>
    where T : unmanaged, IFloatingPointIeee754<T> where TIndex : unmanaged, IBinaryInteger<TIndex>
{
    public static void Run(StridedView x, StridedView y, StridedView indices, Window2d window, int start, int end)
    {
        var src = CpuBackend.Data<T>(x.Storage);
        var dst = CpuBackend.Data<T>(y.Storage);
        var idx = CpuBackend.Data<long>(indices.Storage);
        int channels = x.Shape[1], height = x.Shape[2], width = x.Shape[3], outH = y.Shape[2], outW = y.Shape[3];
        int kh = window.Kernel.Height, kw = window.Kernel.Width, taps = kh * kw, size = outH * outW;
        int sh = window.Stride.Height, sw = window.Stride.Width, ph = window.Padding.Height, pw = window.Padding.Width;
        int dh = window.Dilation.Height, dw = window.Dilation.Width;
        var xs = x.Strides;
        var ys = y.Strides;
        var ix = indices.Strides;
        var none = new Vector<TIndex>(TIndex.AllBitsSet);

        var best = ArrayPool<T>.Shared.Rent(size);
        var winner = ArrayPool<TIndex>.Shared.Rent(size);
        var values = ArrayPool<T>.Shared.Rent(size);
        try
        {
            for (int plane = start; plane < end; plane++)
            {
                int n = plane / channels, c = plane % channels;
                int xPlane = x.Offset + n * xs[0] + c * xs[1];
                best.AsSpan(0, size).Fill(T.NegativeInfinity);
                winner.AsSpan(0, size).Fill(TIndex.AllBitsSet);
                for (int i = 0; i < kh; i++)
                {
                    // The outputs this tap row reaches inside the input: rows [ohLo, ohHi).
                    var (ohLo, ohHi) = Im2Col.ValidRange(i * dh - ph, sh, height, outH);
                    if (ohLo == ohHi) continue;
                    for (int j = 0; j < kw; j++)
                    {
                        int colStart = j * dw - pw;
                        var (lo, hi) = Im2Col.ValidRange(colStart, sw, width, outW);
                        if (lo == hi) continue;
                        var tap = new Vector<TIndex>(TIndex.CreateTruncating(i * kw + j));
                        int step = sw * xs[3];
                        for (int oh = ohLo; oh < ohHi; oh++)
                        {
                            int read = xPlane + (oh * sh - ph + i * dh) * xs[2] + colStart * xs[3];
                            var row = values.AsSpan(oh * outW, outW);
                            if (step == 1) src.AsSpan(read + lo, hi - lo).CopyTo(row[lo..hi]);
                            else for (int ow = lo; ow < hi; ow++) row[ow] = src[read + ow * step];
                        }
                        // Full rows are one contiguous run of the flattened plane; otherwise each row's [lo, hi) is.
                        if (lo == 0 && hi == outW) Update(ohLo * outW, ohHi * outW, tap, none, best, winner, values);
                        else for (int oh = ohLo; oh < ohHi; oh++) Update(oh * outW + lo, oh * outW + hi, tap, none, best, winner, values);
                    }
                }
                int yPlane = y.Offset + n * ys[0] + c * ys[1];
                int iPlane = indices.Offset + n * ix[0] + c * ix[1];
                for (int oh = 0; oh < outH; oh++)
                {
                    for (int ow = 0; ow < outW; ow++)
                    {
                        int p = oh * outW + ow;
                        if (winner[p] == TIndex.AllBitsSet)
                            throw new ArgumentException($"MaxPool2d: the window at output ({oh}, {ow}) lies entirely in the padding ({window}, input {height}×{width}).");
                        int t = int.CreateTruncating(winner[p]);
                        int ih = oh * sh - ph + t / kw * dh, iw = ow * sw - pw + t % kw * dw;
                        dst[yPlane + oh * ys[2] + ow * ys[3]] = best[p];
                        idx[iPlane + oh * ix[2] + ow * ix[3]] = ih * width + iw;
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(best);
            ArrayPool<TIndex>.Shared.Return(winner);
            ArrayPool<T>.Shared.Return(values);
        }
    }

    /// <summary>Over outputs [from, to): where this tap's value is larger, NaN (which wins, as in PyTorch) or the window's first, it takes over.</summary>
    private static void Update(int from, int to, Vector<TIndex> tap, Vector<TIndex> none, T[] best, TIndex[] winner, T[] values)
    {
        int lanes = Vector<T>.Count, p = from;
        for (; p + lanes <= to; p += lanes)
        {
            var v = new Vector<T>(values, p);
            var b = new Vector<T>(best, p);
            var w = new Vector<TIndex>(winner, p);
            var take = Vector.GreaterThan(v, b) | ~Vector.Equals(v, v) | Vector.As<TIndex, T>(Vector.Equals(w, none));
            Vector.ConditionalSelect(take, v, b).CopyTo(best, p);
            Vector.ConditionalSelect(Vector.As<T, TIndex>(take), tap, w).CopyTo(winner, p);
        }
        TIndex tapId = tap[0];
        for (; p < to; p++)
        {
            T v = values[p];
            if (v > best[p] || T.IsNaN(v) || winner[p] == TIndex.AllBitsSet)
            {
                best[p] = v;
                winner[p] = tapId;
            }
        }
    }
}
