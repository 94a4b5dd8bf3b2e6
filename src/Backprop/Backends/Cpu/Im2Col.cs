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
        if (IsRowAligned(strides, height, width, window, outW))
        {
            UnfoldRowAligned(source, origin, strides.C, channels, height, width, columns, window, outH);
            return;
        }
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
    /// column entry at the position it was read from. Entries that were read from padding are dropped (and may be
    /// zeroed in <paramref name="columns"/>, which serves as scratch).
    /// </summary>
    public static void Fold<T>(Span<T> columns, Span<T> image, int channels, int height, int width, Window2d window, int outH, int outW)
        where T : unmanaged, INumber<T>
    {
        image[..(channels * height * width)].Clear();
        if (IsRowAligned((height * width, width, 1), height, width, window, outW))
        {
            FoldRowAligned(columns, image, channels, height, width, window, outH);
            return;
        }
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

    /// <summary>
    /// Unit strides, output rows as wide as the input's and contiguous input rows (a "same" convolution such as
    /// 3×3 with padding 1): then a tap's whole column block is one contiguous run of the input shifted by the tap's
    /// offset, except the elements that wrap around a row edge, which read padding.
    /// </summary>
    private static bool IsRowAligned((int C, int H, int W) strides, int height, int width, Window2d window, int outW) =>
        window.Stride == new Size2d(1, 1) && outW == width && strides.W == 1 && (strides.H == width || height == 1);

    private static void UnfoldRowAligned<T>(T[] source, int origin, int channelStride, int channels, int height, int width,
        Span<T> columns, Window2d window, int outH) where T : unmanaged, INumber<T>
    {
        int kh = window.Kernel.Height, kw = window.Kernel.Width, ph = window.Padding.Height, pw = window.Padding.Width;
        int dh = window.Dilation.Height, dw = window.Dilation.Width, block = outH * width;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            int plane = origin + c * channelStride;
            for (int i = 0; i < kh; i++)
            {
                var (ohLo, ohHi) = ValidRange(i * dh - ph, 1, height, outH);
                for (int j = 0; j < kw; j++, row += block)
                {
                    var target = columns.Slice(row, block);
                    int colStart = j * dw - pw;
                    var (lo, hi) = ValidRange(colStart, 1, width, width);
                    if (ohLo == ohHi || lo == hi)
                    {
                        target.Clear();
                        continue;
                    }
                    target[..(ohLo * width)].Clear();
                    target[(ohHi * width)..].Clear();
                    // Rows ohLo..ohHi−1 read input rows from ohLo − ph + i·dh on, shifted right by colStart; the first lo
                    // and last width − hi entries of each row wrap around an edge and are cleared after the copy.
                    int first = ohLo * width + lo, last = (ohHi - 1) * width + hi;
                    int read = plane + (ohLo - ph + i * dh) * width + colStart + lo;
                    source.AsSpan(read, last - first).CopyTo(target[first..last]);
                    if (lo > 0 || hi < width)
                        for (int oh = ohLo; oh < ohHi; oh++)
                        {
                            target.Slice(oh * width, lo).Clear();
                            target.Slice(oh * width + hi, width - hi).Clear();
                        }
                }
            }
        }
    }

    private static void FoldRowAligned<T>(Span<T> columns, Span<T> image, int channels, int height, int width, Window2d window, int outH)
        where T : unmanaged, INumber<T>
    {
        int kh = window.Kernel.Height, kw = window.Kernel.Width, ph = window.Padding.Height, pw = window.Padding.Width;
        int dh = window.Dilation.Height, dw = window.Dilation.Width, block = outH * width;
        int row = 0;
        for (int c = 0; c < channels; c++)
        {
            var plane = image.Slice(c * height * width, height * width);
            for (int i = 0; i < kh; i++)
            {
                var (ohLo, ohHi) = ValidRange(i * dh - ph, 1, height, outH);
                for (int j = 0; j < kw; j++, row += block)
                {
                    int colStart = j * dw - pw;
                    var (lo, hi) = ValidRange(colStart, 1, width, width);
                    if (ohLo == ohHi || lo == hi) continue;
                    var from = columns.Slice(row, block);
                    // Entries that wrapped around a row edge were read from padding: clear them, and the rows map onto
                    // one contiguous run of the plane.
                    if (lo > 0 || hi < width)
                        for (int oh = ohLo; oh < ohHi; oh++)
                        {
                            from.Slice(oh * width, lo).Clear();
                            from.Slice(oh * width + hi, width - hi).Clear();
                        }
                    int first = ohLo * width + lo, last = (ohHi - 1) * width + hi;
                    var to = plane.Slice(first + (i * dh - ph) * width + colStart, last - first);
                    TensorPrimitives.Add(to, from[first..last], to);
                }
            }
        }
    }
}
