using System.Runtime.Intrinsics;

namespace Backprop.Backends.Cpu;

/// <summary>
/// The common case of max pooling — float, 2×2 windows, stride 2, no padding or dilation — with four outputs per
/// step: each input row pair is split into its even and odd columns (a narrowing of 64-bit pairs, no gather), and
/// the four taps are compared lane-wise in window order. A row's last step overlaps the one before instead of
/// falling back to scalar code, so rows of any width ≥ 4 are all vector work.
/// </summary>
internal static class MaxPool2x2
{
    public static bool Applies(in StridedView x, in StridedView y, in StridedView indices, Window2d window) =>
        x.DType == DType.Float32 && window == new Window2d(2, 2, 0, 1)
        && y.Shape[3] >= 4 && 2 * y.Shape[3] <= x.Shape[3] && 2 * y.Shape[2] <= x.Shape[2]
        && x.Strides[3] == 1 && y.Strides[3] == 1 && indices.Strides[3] == 1;

    public static void Run(StridedView x, StridedView y, StridedView indices, int start, int end)
    {
        var src = CpuBackend.Data<float>(x.Storage);
        var dst = CpuBackend.Data<float>(y.Storage);
        var idx = CpuBackend.Data<long>(indices.Storage);
        int channels = x.Shape[1], width = x.Shape[3], outH = y.Shape[2], outW = y.Shape[3];
        var xs = x.Strides;
        var ys = y.Strides;
        var ix = indices.Strides;
        // Flat position of lane t's (0, 0) tap relative to the step's first: 2t.
        var laneOffsets = Vector128.Create(0, 2, 4, 6);
        var one = Vector128.Create(1);
        var below = Vector128.Create(width);
        for (int plane = start; plane < end; plane++)
        {
            int n = plane / channels, c = plane % channels;
            int xPlane = x.Offset + n * xs[0] + c * xs[1];
            int yPlane = y.Offset + n * ys[0] + c * ys[1];
            int iPlane = indices.Offset + n * ix[0] + c * ix[1];
            for (int oh = 0; oh < outH; oh++)
            {
                int top = xPlane + 2 * oh * xs[2], bottom = top + xs[2];
                int yRow = yPlane + oh * ys[2], iRow = iPlane + oh * ix[2];
                for (int ow = 0; ; ow += 4)
                {
                    if (ow > outW - 4) ow = outW - 4;
                    var (a, b) = Split(src, top + 2 * ow);
                    var (cc, d) = Split(src, bottom + 2 * ow);
                    // Window order (0,0), (0,1), (1,0), (1,1): a later tap takes over only if larger or NaN.
                    var best = a;
                    var dx = Vector128<int>.Zero;
                    var dy = Vector128<int>.Zero;
                    var take = Take(b, best);
                    best = Vector128.ConditionalSelect(take, b, best);
                    dx = Vector128.ConditionalSelect(take.AsInt32(), one, dx);
                    take = Take(cc, best);
                    best = Vector128.ConditionalSelect(take, cc, best);
                    dx = Vector128.ConditionalSelect(take.AsInt32(), Vector128<int>.Zero, dx);
                    dy = Vector128.ConditionalSelect(take.AsInt32(), below, dy);
                    take = Take(d, best);
                    best = Vector128.ConditionalSelect(take, d, best);
                    dx = Vector128.ConditionalSelect(take.AsInt32(), one, dx);
                    dy = Vector128.ConditionalSelect(take.AsInt32(), below, dy);
                    best.CopyTo(dst, yRow + ow);
                    var at = Vector128.Create(2 * oh * width + 2 * ow) + laneOffsets + dx + dy;
                    var (lo, hi) = Vector128.Widen(at);
                    lo.CopyTo(idx, iRow + ow);
                    hi.CopyTo(idx, iRow + ow + 2);
                    if (ow == outW - 4) break;
                }
            }
        }
    }

    /// <summary>Eight consecutive floats from <paramref name="at"/> as their even and odd elements.</summary>
    private static (Vector128<float> Even, Vector128<float> Odd) Split(float[] data, int at)
    {
        var first = Vector128.Create(data, at).AsInt64();
        var second = Vector128.Create(data, at + 4).AsInt64();
        var even = Vector128.Narrow(first, second).AsSingle();
        var odd = Vector128.Narrow(Vector128.ShiftRightLogical(first, 32), Vector128.ShiftRightLogical(second, 32)).AsSingle();
        return (even, odd);
    }

    private static Vector128<float> Take(Vector128<float> v, Vector128<float> best) =>
        Vector128.GreaterThan(v, best) | ~Vector128.Equals(v, v);
}
