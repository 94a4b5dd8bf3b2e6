using Backprop.Ops;

namespace Backprop.Nn;

public static partial class Functional
{
    /// <summary>
    /// 2-D max pooling of <paramref name="input"/> [N, C, H, W] (or [C, H, W]): the largest value in each window.
    /// The gradient goes to the position of each maximum (the first, on ties).
    /// </summary>
    /// <param name="stride">Step between windows; defaults to the kernel size (non-overlapping windows).</param>
    /// <param name="padding">Implicit −∞ padding on both sides; at most half the kernel.</param>
    /// <param name="ceilMode">Round the output size up, so a partial window at the end is pooled too.</param>
    public static Tensor MaxPool2d(Tensor input, Size2d kernelSize, Size2d? stride = null, Size2d? padding = null,
        Size2d? dilation = null, bool ceilMode = false) =>
        MaxPool2dWithIndices(input, kernelSize, stride, padding, dilation, ceilMode).Output;

    /// <summary>
    /// <see cref="MaxPool2d"/> that also returns where each maximum was (PyTorch's <c>return_indices=True</c>): Int64
    /// indices of the output's shape holding the flat position h·W + w within each input plane.
    /// </summary>
    public static (Tensor Output, Tensor Indices) MaxPool2dWithIndices(Tensor input, Size2d kernelSize, Size2d? stride = null,
        Size2d? padding = null, Size2d? dilation = null, bool ceilMode = false)
    {
        const string op = "MaxPool2d";
        var window = ConvWindow(op, kernelSize, stride ?? kernelSize, padding, dilation);
        if (window.Padding.Height > kernelSize.Height / 2 || window.Padding.Width > kernelSize.Width / 2)
            throw new ArgumentException($"{op}: padding {window.Padding} must be at most half the kernel size {kernelSize}.");
        var (x, batched) = SpatialInput(op, input);
        var (outH, outW) = PoolOutputSize(op, input, x, window, ceilMode);
        var (y, indices) = MaxPool2dOp.Apply(x, window, outH, outW);
        return batched ? (y, indices) : (y.Squeeze(0), indices.Squeeze(0));
    }

    /// <summary>
    /// 2-D average pooling of <paramref name="input"/> [N, C, H, W] (or [C, H, W]): the mean of each window.
    /// </summary>
    /// <param name="stride">Step between windows; defaults to the kernel size.</param>
    /// <param name="padding">Implicit zero padding on both sides; at most half the kernel.</param>
    /// <param name="ceilMode">Round the output size up, so a partial window at the end is pooled too.</param>
    /// <param name="countIncludePad">Whether the zero padding counts in the divisor (PyTorch's default) or only input elements do.</param>
    public static Tensor AvgPool2d(Tensor input, Size2d kernelSize, Size2d? stride = null, Size2d? padding = null,
        bool ceilMode = false, bool countIncludePad = true)
    {
        const string op = "AvgPool2d";
        var window = ConvWindow(op, kernelSize, stride ?? kernelSize, padding, 1);
        if (window.Padding.Height > kernelSize.Height / 2 || window.Padding.Width > kernelSize.Width / 2)
            throw new ArgumentException($"{op}: padding {window.Padding} must be at most half the kernel size {kernelSize}.");
        var (x, batched) = SpatialInput(op, input);
        var (outH, outW) = PoolOutputSize(op, input, x, window, ceilMode);
        var y = AvgPool2dOp.Apply(x, window, countIncludePad, outH, outW);
        return batched ? y : y.Squeeze(0);
    }

    /// <summary>
    /// 2-D average pooling to a fixed output size: output row i averages input rows ⌊i·H/OH⌋ to ⌈(i+1)·H/OH⌉ − 1
    /// (PyTorch's rule; windows may differ in size and overlap when the sizes do not divide), and columns likewise.
    /// </summary>
    public static Tensor AdaptiveAvgPool2d(Tensor input, Size2d outputSize)
    {
        const string op = "AdaptiveAvgPool2d";
        if (outputSize.Height < 1 || outputSize.Width < 1) throw new ArgumentException($"{op}: output size must be positive; got {outputSize}.");
        var (x, batched) = SpatialInput(op, input);
        int h = x.Sizes[2], w = x.Sizes[3];
        if (h < 1 || w < 1) throw new ShapeMismatchException(op, $"input {input.Shape} has an empty plane");
        Tensor y;
        if (h % outputSize.Height == 0 && w % outputSize.Width == 0)
        {
            // Equal, disjoint windows: plain average pooling with kernel = stride.
            var kernel = new Size2d(h / outputSize.Height, w / outputSize.Width);
            y = AvgPool2dOp.Apply(x, new Window2d(kernel, kernel, 0, 1), countIncludePad: true, outputSize.Height, outputSize.Width);
        }
        else
        {
            // Averaging is separable: y = Pₕ · x · Pᵥᵀ, with Pₕ [OH, H] holding 1/(window length) on each window.
            var rows = AdaptivePoolingMatrix(h, outputSize.Height, x);
            var columns = AdaptivePoolingMatrix(w, outputSize.Width, x);
            y = rows.MatMul(x.MatMul(columns.T));
        }
        return batched ? y : y.Squeeze(0);
    }

    private static Tensor AdaptivePoolingMatrix(int input, int output, Tensor like)
    {
        var weights = new double[output * input];
        for (int i = 0; i < output; i++)
        {
            int start = (int)((long)i * input / output);
            int end = (int)(((long)(i + 1) * input + output - 1) / output);
            for (int j = start; j < end; j++) weights[i * input + j] = 1.0 / (end - start);
        }
        return Tensor.FromArray(weights, output, input).To(like.DType).To(like.Device);
    }

    private static (int Height, int Width) PoolOutputSize(string op, Tensor input, Tensor x, Window2d window, bool ceilMode)
    {
        int outH = window.OutputHeight(x.Sizes[2], ceilMode), outW = window.OutputWidth(x.Sizes[3], ceilMode);
        if (outH < 1 || outW < 1)
            throw new ShapeMismatchException(op, $"the input {input.Shape} is too small for {window} (the output would be {outH}×{outW})");
        return (outH, outW);
    }
}
