namespace Backprop.Backends.Cpu;

/// <summary>
/// im2col and its adjoint for one sample. Unfold writes a sample's windows as a matrix [C·kh·kw, OH·OW], row
/// (c, i, j) holding what kernel tap (i, j) of channel c reads at every output position, so a convolution becomes
/// weight [O, C·kh·kw] times this matrix. Fold sums such a matrix back onto the positions it was read from.
/// </summary>
internal static class Im2Col
{
    /// <summary>The range [lo, hi) of t in [0, count) for which start + t·step lies in [0, size).</summary>
    public static (int Lo, int Hi) ValidRange(int start, int step, int size, int count)
    {
        int lo = start >= 0 ? 0 : (-start + step - 1) / step;
        int hi = start > size - 1 ? 0 : Math.Min(count, (size - 1 - start) / step + 1);
        return (lo, Math.Max(lo, hi));
    }

    /// <summary>
    /// Writes the columns of one sample, x[c, h, w] = source[origin + c·strides.C + h·strides.H + w·strides.W],
    /// to columns[0 .. C·kh·kw·outH·outW) in row-major [C, kh, kw, outH, outW] order, with 0 for padding.
    /// </summary>
    public static void Unfold<T>(T[] source, int origin, (int C, int H, int W) strides, int channels, int height, int width,
        Span<T> columns, Window2d window, int outH, int outW) where T : unmanaged, INumber<T>
    {
        int kh = window.Kernel.Height, kw = window.Kernel.Width;
        int sh = window.Stride.Height, sw = window.Stride.Width, ph = window.Padding.Height, pw = window.Padding.Width;
        int dh = window.Dilation.Height, dw = window.Dilation.Width;
        int step = sw * strides.W;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            int plane = origin + c * strides.C;
            for (int i = 0; i < kh; i++)
            {
                for (int j = 0; j < kw; j++)
                {
                    int colStart = j * dw - pw;
                    var (lo, hi) = ValidRange(colStart, sw, width, outW);
                    for (int oh = 0; oh < outH; oh++, row += outW)
                    {
                        var target = columns.Slice(row, outW);
                        int ih = oh * sh - ph + i * dh;
                        if ((uint)ih >= (uint)height || lo == hi)
                        {
                            target.Clear();
                            continue;
                        }
                        target[..lo].Clear();
                        int read = plane + ih * strides.H + colStart * strides.W;
                        if (step == 1)
                            source.AsSpan(read + lo, hi - lo).CopyTo(target[lo..hi]);
                        else
                            for (int ow = lo; ow < hi; ow++) target[ow] = source[read + ow * step];
                        target[hi..].Clear();
                    }
                }
            }
        }
    }

    /// <summary>
    /// The adjoint of <see cref="Unfold"/>: overwrites one contiguous sample, image[0 .. C·H·W), with the sum of every
    /// column entry at the position it was read from. Entries that were read from padding are dropped.
    /// </summary>
    public static void Fold<T>(ReadOnlySpan<T> columns, Span<T> image, int channels, int height, int width, Window2d window, int outH, int outW)
        where T : unmanaged, INumber<T>
    {
        image[..(channels * height * width)].Clear();
        int kh = window.Kernel.Height, kw = window.Kernel.Width;
        int sh = window.Stride.Height, sw = window.Stride.Width, ph = window.Padding.Height, pw = window.Padding.Width;
        int dh = window.Dilation.Height, dw = window.Dilation.Width;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            var plane = image.Slice(c * height * width, height * width);
            for (int i = 0; i < kh; i++)
            {
                for (int j = 0; j < kw; j++)
                {
                    int colStart = j * dw - pw;
                    var (lo, hi) = ValidRange(colStart, sw, width, outW);
                    for (int oh = 0; oh < outH; oh++, row += outW)
                    {
                        int ih = oh * sh - ph + i * dh;
                        if ((uint)ih >= (uint)height || lo == hi) continue;
                        var from = columns.Slice(row + lo, hi - lo);
                        int at = ih * width + colStart;
                        if (sw == 1)
                        {
                            var to = plane.Slice(at + lo, hi - lo);
                            TensorPrimitives.Add(to, from, to);
                        }
                        else
                        {
                            for (int t = 0; t < from.Length; t++) plane[at + (lo + t) * sw] += from[t];
                        }
                    }
                }
            }
        }
    }
}
