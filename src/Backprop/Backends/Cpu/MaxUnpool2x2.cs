using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Backprop.Backends.Cpu;

/// <summary>
/// The gradient of <see cref="MaxPool2x2"/>'s case (float, disjoint 2×2 windows at stride 2): every input element
/// belongs to exactly one window, so each is written once — the pooled gradient where the window's maximum was, zero
/// at its other three taps — instead of zero-filling the plane and scattering into it. Four windows per step: each
/// window's index is compared with its four tap positions, and the masked gradients are interleaved into the two
/// input rows. An index outside its window (indices that did not come from this pooling) sends the plane back to the
/// general scatter.
/// </summary>
internal static class MaxUnpool2x2
{
    public static bool Applies(in StridedView g, in StridedView indices, in StridedView gradInput) =>
        g.DType == DType.Float32 && g.Shape[3] >= 4 && 2 * g.Shape[2] <= gradInput.Shape[2] && 2 * g.Shape[3] <= gradInput.Shape[3]
        && g.Strides[3] == 1 && indices.Strides[3] == 1 && gradInput.Strides[3] == 1 && gradInput.Strides[2] == gradInput.Shape[3];

    /// <summary>Writes the plane's gradient; false (with the plane partly written) when an index is not in its own window.</summary>
    public static bool RunPlane(float[] from, int gPlane, int gRow, long[] at, int iPlane, int iRow, float[] to, int xPlane, int height, int width,
        int outH, int outW)
    {
        var laneOffsets = Vector256.Create(0L, 2, 4, 6);
        var matched = Vector256<long>.AllBitsSet;
        for (int oh = 0; oh < outH; oh++)
        {
            int top = xPlane + 2 * oh * width, bottom = top + width;
            for (int ow = 0; ; ow += 4)
            {
                if (ow > outW - 4) ow = outW - 4;
                var gradient = Vector128.Create(from, gPlane + oh * gRow + ow);
                var index = Vector256.Create(at, iPlane + oh * iRow + ow);
                var first = Vector256.Create((long)(2 * oh * width + 2 * ow)) + laneOffsets;
                var m00 = Vector256.Equals(index, first);
                var m01 = Vector256.Equals(index, first + Vector256<long>.One);
                var m10 = Vector256.Equals(index, first + Vector256.Create((long)width));
                var m11 = Vector256.Equals(index, first + Vector256.Create((long)width + 1));
                matched &= m00 | m01 | m10 | m11;
                Interleave(gradient & Mask(m00), gradient & Mask(m01)).CopyTo(to, top + 2 * ow);
                Interleave(gradient & Mask(m10), gradient & Mask(m11)).CopyTo(to, bottom + 2 * ow);
                if (ow == outW - 4) break;
            }
            if (width > 2 * outW)
            {
                to.AsSpan(top + 2 * outW, width - 2 * outW).Clear();
                to.AsSpan(bottom + 2 * outW, width - 2 * outW).Clear();
            }
        }
        if (height > 2 * outH) to.AsSpan(xPlane + 2 * outH * width, (height - 2 * outH) * width).Clear();
        return matched == Vector256<long>.AllBitsSet;
    }

    /// <summary>Four 64-bit lane masks as four 32-bit float masks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Mask(Vector256<long> mask) => Vector128.Narrow(mask.GetLower(), mask.GetUpper()).AsSingle();

    /// <summary>[a0, b0, a1, b1, a2, b2, a3, b3]: each float of <paramref name="a"/> followed by the one of <paramref name="b"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Interleave(Vector128<float> a, Vector128<float> b)
    {
        var (aLow, aHigh) = Vector128.Widen(a.AsUInt32());
        var (bLow, bHigh) = Vector128.Widen(b.AsUInt32());
        return Vector256.Create(aLow | (bLow << 32), aHigh | (bHigh << 32)).AsSingle();
    }
}
