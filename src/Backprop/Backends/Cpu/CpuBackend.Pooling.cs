namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void MaxPool2d(StridedView x, StridedView y, StridedView indices, Window2d window)
    {
        CheckPool("MaxPool2d", x, y);
        CheckSameShape("MaxPool2d", y, indices);
        if (indices.DType != DType.Int64) throw new ArgumentException($"MaxPool2d: indices must be int64; got {indices.DType.DisplayName()}.");
        switch (x.DType)
        {
            case DType.Float16 or DType.BFloat16:
            {
                // Widening is exact, so the float32 maximum is the half maximum (Note [Half precision]).
                CheckSameDType("MaxPool2d", y, x);
                var wide = Scratch(y);
                MaxPool2d(Widened(x), wide, indices, window);
                Copy(wide, y);
                break;
            }
            case DType.Float32 when MaxPool2x2.Applies(x, y, indices, window):
                ForRanges(x.Shape[0] * x.Shape[1], MaxPoolCost(y, window), (_, start, end) => MaxPool2x2.Run(x, y, indices, start, end));
                break;
            case DType.Float32:
                ForRanges(x.Shape[0] * x.Shape[1], MaxPoolCost(y, window), (_, start, end) => MaxPoolPlanes<float, int>.Run(x, y, indices, window, start, end));
                break;
            case DType.Float64:
                ForRanges(x.Shape[0] * x.Shape[1], MaxPoolCost(y, window), (_, start, end) => MaxPoolPlanes<double, long>.Run(x, y, indices, window, start, end));
                break;
            default: throw Unsupported("MaxPool2d", x.DType);
        }
    }

    public void MaxPool2dBackward(StridedView gradOutput, StridedView indices, StridedView gradInput)
    {
        CheckPool("MaxPool2dBackward", gradInput, gradOutput);
        CheckSameShape("MaxPool2dBackward", gradOutput, indices);
        if (indices.DType != DType.Int64) throw new ArgumentException($"MaxPool2dBackward: indices must be int64; got {indices.DType.DisplayName()}.");
        switch (gradInput.DType)
        {
            case DType.Float16 or DType.BFloat16:
            {
                CheckSameDType("MaxPool2dBackward", gradOutput, gradInput);
                var wide = Scratch(gradInput);
                MaxPool2dBackward(Widened(gradOutput), indices, wide);
                Copy(wide, gradInput);
                break;
            }
            case DType.Float32 when MaxUnpool2x2.Applies(gradOutput, indices, gradInput):
                ForRanges(gradOutput.Shape[0] * gradOutput.Shape[1], 4L * gradInput.Shape[2] * gradInput.Shape[3],
                    (_, start, end) => Unpool2x2Planes(gradOutput, indices, gradInput, start, end));
                break;
            case DType.Float32: UnpoolTyped<float>(gradOutput, indices, gradInput); break;
            case DType.Float64: UnpoolTyped<double>(gradOutput, indices, gradInput); break;
            default: throw Unsupported("MaxPool2dBackward", gradInput.DType);
        }
    }

    private static void UnpoolTyped<T>(StridedView g, StridedView indices, StridedView gradInput) where T : unmanaged, INumber<T>
    {
        FillTyped(gradInput, T.Zero);
        ForRanges(g.Shape[0] * g.Shape[1], 4L * g.Shape[2] * g.Shape[3], (_, start, end) => UnpoolPlanes<T>(g, indices, gradInput, start, end));
    }

    private static void Unpool2x2Planes(in StridedView g, in StridedView indices, in StridedView gradInput, int start, int end)
    {
        var from = Data<float>(g.Storage);
        var at = Data<long>(indices.Storage);
        var to = Data<float>(gradInput.Storage);
        int channels = g.Shape[1], outH = g.Shape[2], outW = g.Shape[3], height = gradInput.Shape[2], width = gradInput.Shape[3];
        for (int plane = start; plane < end; plane++)
        {
            int n = plane / channels, c = plane % channels;
            int gPlane = g.Offset + n * g.Strides[0] + c * g.Strides[1];
            int iPlane = indices.Offset + n * indices.Strides[0] + c * indices.Strides[1];
            int xPlane = gradInput.Offset + n * gradInput.Strides[0] + c * gradInput.Strides[1];
            if (MaxUnpool2x2.RunPlane(from, gPlane, g.Strides[2], at, iPlane, indices.Strides[2], to, xPlane, height, width, outH, outW)) continue;
            to.AsSpan(xPlane, height * width).Clear();
            UnpoolPlanes<float>(g, indices, gradInput, plane, plane + 1);
        }
    }

    // A method of its own rather than the lambda's body: locals stay in registers across the stores to the arrays.
    private static void UnpoolPlanes<T>(in StridedView g, in StridedView indices, in StridedView gradInput, int start, int end)
        where T : unmanaged, INumber<T>
    {
        var from = Data<T>(g.Storage);
        var at = Data<long>(indices.Storage);
        var to = Data<T>(gradInput.Storage);
        int channels = g.Shape[1], outH = g.Shape[2], outW = g.Shape[3], height = gradInput.Shape[2], width = gradInput.Shape[3];
        int gs0 = g.Strides[0], gs1 = g.Strides[1], gs2 = g.Strides[2], gs3 = g.Strides[3];
        int is0 = indices.Strides[0], is1 = indices.Strides[1], is2 = indices.Strides[2], is3 = indices.Strides[3];
        int xs0 = gradInput.Strides[0], xs1 = gradInput.Strides[1], xs2 = gradInput.Strides[2], xs3 = gradInput.Strides[3];
        long planeSize = (long)height * width;
        bool flat = xs3 == 1 && (xs2 == width || height == 1);
        for (int plane = start; plane < end; plane++)
        {
            int n = plane / channels, c = plane % channels;
            int gPlane = g.Offset + n * gs0 + c * gs1;
            int iPlane = indices.Offset + n * is0 + c * is1;
            int xPlane = gradInput.Offset + n * xs0 + c * xs1;
            for (int oh = 0; oh < outH; oh++)
                for (int ow = 0; ow < outW; ow++)
                {
                    long position = at[iPlane + oh * is2 + ow * is3];
                    if ((ulong)position >= (ulong)planeSize) ThrowIndexOutsidePlane(position, height, width);
                    int target = flat ? xPlane + (int)position : xPlane + (int)(position / width) * xs2 + (int)(position % width) * xs3;
                    to[target] += from[gPlane + oh * gs2 + ow * gs3];
                }
        }
    }

    // Thrown from a method of its own so the loop that checks stays small.
    private static void ThrowIndexOutsidePlane(long position, int height, int width) =>
        throw new IndexOutOfRangeException($"MaxPool2dBackward: index {position} is outside a {height}×{width} plane.");

    /// <summary>Work per plane, in multiply-add equivalents: a pooling tap moves memory, worth several.</summary>
    private static long MaxPoolCost(in StridedView y, Window2d window) =>
        4L * y.Shape[2] * y.Shape[3] * window.Kernel.Height * window.Kernel.Width;

    private static void CheckPool(string kernel, in StridedView x, in StridedView y)
    {
        CheckSameDType(kernel, x, y);
        if (x.Rank != 4 || y.Rank != 4 || x.Shape[0] != y.Shape[0] || x.Shape[1] != y.Shape[1])
            throw new ShapeMismatchException(kernel, $"input {Shape.Format(x.Shape)} and output {Shape.Format(y.Shape)} must be [N, C, H, W] and [N, C, OH, OW]");
    }

    public void AvgPool2d(StridedView x, StridedView y, Window2d window, bool countIncludePad)
    {
        CheckPool("AvgPool2d", x, y);
        CheckUndilated("AvgPool2d", window);
        switch (x.DType)
        {
            case DType.Float16 or DType.BFloat16:
            {
                // Averaged in float32 and rounded once (Note [Half precision]).
                CheckSameDType("AvgPool2d", y, x);
                var wide = Scratch(y);
                AvgPoolTyped<float>(Widened(x), wide, window, countIncludePad, backward: false);
                Copy(wide, y);
                break;
            }
            case DType.Float32: AvgPoolTyped<float>(x, y, window, countIncludePad, backward: false); break;
            case DType.Float64: AvgPoolTyped<double>(x, y, window, countIncludePad, backward: false); break;
            default: throw Unsupported("AvgPool2d", x.DType);
        }
    }

    public void AvgPool2dBackward(StridedView gradOutput, StridedView gradInput, Window2d window, bool countIncludePad)
    {
        CheckPool("AvgPool2dBackward", gradInput, gradOutput);
        CheckUndilated("AvgPool2dBackward", window);
        switch (gradInput.DType)
        {
            case DType.Float16 or DType.BFloat16:
            {
                CheckSameDType("AvgPool2dBackward", gradOutput, gradInput);
                var wide = Scratch(gradInput);
                AvgPoolTyped<float>(wide, Widened(gradOutput), window, countIncludePad, backward: true);
                Copy(wide, gradInput);
                break;
            }
            case DType.Float32: AvgPoolTyped<float>(gradInput, gradOutput, window, countIncludePad, backward: true); break;
            case DType.Float64: AvgPoolTyped<double>(gradInput, gradOutput, window, countIncludePad, backward: true); break;
            default: throw Unsupported("AvgPool2dBackward", gradInput.DType);
        }
    }

    private static void CheckUndilated(string kernel, Window2d window)
    {
        if (window.Dilation != new Size2d(1, 1)) throw new ArgumentException($"{kernel}: dilation must be 1; got {window.Dilation}.");
    }

    /// <summary>
    /// Forward: pooled = Σ window of input / divisor. Backward: input (overwritten) += pooled / divisor over each window.
    /// One loop for both, so the divisor rule (PyTorch's) is written once.
    /// </summary>
    private static void AvgPoolTyped<T>(StridedView input, StridedView pooled, Window2d window, bool countIncludePad, bool backward)
        where T : unmanaged, INumber<T>
    {
        if (backward) FillTyped(input, T.Zero);
        long cost = (long)pooled.Shape[2] * pooled.Shape[3] * window.Kernel.Height * window.Kernel.Width;
        ForRanges(input.Shape[0] * input.Shape[1], cost, (_, start, end) => AvgPoolPlanes<T>(input, pooled, window, countIncludePad, backward, start, end));
    }

    private static void AvgPoolPlanes<T>(in StridedView input, in StridedView pooled, Window2d window, bool countIncludePad, bool backward, int start, int end)
        where T : unmanaged, INumber<T>
    {
        var xData = Data<T>(input.Storage);
        var yData = Data<T>(pooled.Storage);
        int channels = input.Shape[1], height = input.Shape[2], width = input.Shape[3];
        int outH = pooled.Shape[2], outW = pooled.Shape[3];
        int kh = window.Kernel.Height, kw = window.Kernel.Width;
        int sh = window.Stride.Height, sw = window.Stride.Width, ph = window.Padding.Height, pw = window.Padding.Width;
        var xs = input.Strides;
        var ys = pooled.Strides;
        for (int plane = start; plane < end; plane++)
        {
            int n = plane / channels, c = plane % channels;
            int xPlane = input.Offset + n * xs[0] + c * xs[1];
            int yPlane = pooled.Offset + n * ys[0] + c * ys[1];
            for (int oh = 0; oh < outH; oh++)
            {
                int h0 = oh * sh - ph, h1 = Math.Min(h0 + kh, height + ph);
                int padH = h1 - h0;
                h0 = Math.Max(h0, 0);
                h1 = Math.Min(h1, height);
                for (int ow = 0; ow < outW; ow++)
                {
                    int w0 = ow * sw - pw, w1 = Math.Min(w0 + kw, width + pw);
                    int padW = w1 - w0;
                    w0 = Math.Max(w0, 0);
                    w1 = Math.Min(w1, width);
                    ref T cell = ref yData[yPlane + oh * ys[2] + ow * ys[3]];
                    if (h0 >= h1 || w0 >= w1)
                    {
                        if (!backward) cell = T.Zero;
                        continue;
                    }
                    T divisor = T.CreateTruncating(countIncludePad ? padH * padW : (h1 - h0) * (w1 - w0));
                    if (backward)
                    {
                        T share = cell / divisor;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++)
                                xData[xPlane + ih * xs[2] + iw * xs[3]] += share;
                    }
                    else
                    {
                        // In float64 and rounded once, as every reduction (Note [Accurate reductions]): a global
                        // average pool sums a whole plane.
                        double sum = 0;
                        for (int ih = h0; ih < h1; ih++)
                            for (int iw = w0; iw < w1; iw++)
                                sum += double.CreateTruncating(xData[xPlane + ih * xs[2] + iw * xs[3]]);
                        cell = T.CreateTruncating(sum / double.CreateTruncating(divisor));
                    }
                }
            }
        }
    }
}
