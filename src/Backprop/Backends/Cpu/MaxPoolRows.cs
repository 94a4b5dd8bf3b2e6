using System.Buffers;

namespace Backprop.Backends.Cpu;

/// <summary>
/// Max pooling, one output row at a time and vectorised across the row: every kernel tap compares its input value
/// for all the row's outputs at once against the running maxima and their positions. A per-output scalar loop
/// spends most of its time on mispredicted comparisons of random data; lane-wise selects have no branches.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
/// <typeparam name="TIndex">An integer of T's width (int for float, long for double), so value and position lanes line up.</typeparam>
internal static class MaxPoolRows<T, TIndex>
    where T : unmanaged, IFloatingPointIeee754<T> where TIndex : unmanaged, IBinaryInteger<TIndex>
{
    public static void Planes(StridedView x, StridedView y, StridedView indices, Window2d window, int start, int end)
    {
        var src = CpuBackend.Data<T>(x.Storage);
        var dst = CpuBackend.Data<T>(y.Storage);
        var idx = CpuBackend.Data<long>(indices.Storage);
        int channels = x.Shape[1], height = x.Shape[2], width = x.Shape[3], outH = y.Shape[2], outW = y.Shape[3];
        int kh = window.Kernel.Height, kw = window.Kernel.Width;
        int sh = window.Stride.Height, sw = window.Stride.Width, ph = window.Padding.Height, pw = window.Padding.Width;
        int dh = window.Dilation.Height, dw = window.Dilation.Width;
        var xs = x.Strides;
        var ys = y.Strides;
        var ix = indices.Strides;
        int lanes = Vector<T>.Count;
        var laneSteps = new TIndex[lanes];
        for (int t = 0; t < lanes; t++) laneSteps[t] = TIndex.CreateTruncating(t * sw);
        var laneOffsets = new Vector<TIndex>(laneSteps);
        var none = new Vector<TIndex>(TIndex.AllBitsSet);

        var best = ArrayPool<T>.Shared.Rent(outW);
        var at = ArrayPool<TIndex>.Shared.Rent(outW);
        var gathered = ArrayPool<T>.Shared.Rent(outW);
        try
        {
            for (int plane = start; plane < end; plane++)
            {
                int n = plane / channels, c = plane % channels;
                int xPlane = x.Offset + n * xs[0] + c * xs[1];
                int yPlane = y.Offset + n * ys[0] + c * ys[1];
                int iPlane = indices.Offset + n * ix[0] + c * ix[1];
                for (int oh = 0; oh < outH; oh++)
                {
                    best.AsSpan(0, outW).Fill(T.NegativeInfinity);
                    at.AsSpan(0, outW).Fill(TIndex.AllBitsSet);
                    int hStart = oh * sh - ph;
                    var (iLo, iHi) = Im2Col.ValidRange(hStart, dh, height, kh);
                    for (int i = iLo; i < iHi; i++)
                    {
                        int ih = hStart + i * dh;
                        for (int j = 0; j < kw; j++)
                        {
                            int colStart = j * dw - pw;
                            var (lo, hi) = Im2Col.ValidRange(colStart, sw, width, outW);
                            if (lo == hi) continue;
                            int read = xPlane + ih * xs[2] + colStart * xs[3], step = sw * xs[3];
                            ReadOnlySpan<T> values;
                            if (step == 1) values = src.AsSpan(read + lo, hi - lo);
                            else
                            {
                                for (int t = lo; t < hi; t++) gathered[t - lo] = src[read + t * step];
                                values = gathered.AsSpan(0, hi - lo);
                            }
                            // Position of output ow's tap: position0 + ow·sw.
                            int position0 = ih * width + colStart;
                            int ow = lo;
                            for (; ow + lanes <= hi; ow += lanes)
                            {
                                var v = new Vector<T>(values[(ow - lo)..]);
                                var b = new Vector<T>(best, ow);
                                var a = new Vector<TIndex>(at, ow);
                                // Larger, or NaN (which wins, as in PyTorch), or the window's first valid tap.
                                var take = Vector.GreaterThan(v, b) | ~Vector.Equals(v, v) | Vector.As<TIndex, T>(Vector.Equals(a, none));
                                Vector.ConditionalSelect(take, v, b).CopyTo(best, ow);
                                var positions = new Vector<TIndex>(TIndex.CreateTruncating(position0 + ow * sw)) + laneOffsets;
                                Vector.ConditionalSelect(Vector.As<T, TIndex>(take), positions, a).CopyTo(at, ow);
                            }
                            for (; ow < hi; ow++)
                            {
                                T v = values[ow - lo];
                                if (v > best[ow] || T.IsNaN(v) || at[ow] == TIndex.AllBitsSet)
                                {
                                    best[ow] = v;
                                    at[ow] = TIndex.CreateTruncating(position0 + ow * sw);
                                }
                            }
                        }
                    }
                    int yRow = yPlane + oh * ys[2], iRow = iPlane + oh * ix[2];
                    for (int ow = 0; ow < outW; ow++)
                    {
                        if (at[ow] == TIndex.AllBitsSet)
                            throw new ArgumentException($"MaxPool2d: the window at output ({oh}, {ow}) lies entirely in the padding ({window}, input {height}×{width}).");
                        dst[yRow + ow * ys[3]] = best[ow];
                        idx[iRow + ow * ix[3]] = long.CreateTruncating(at[ow]);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(best);
            ArrayPool<TIndex>.Shared.Return(at);
            ArrayPool<T>.Shared.Return(gathered);
        }
    }
}
