using Backprop.Ops;

namespace Backprop.Nn;

public static partial class Functional
{
    /// <summary>
    /// 1-D convolution (cross-correlation, as in PyTorch) of <paramref name="input"/> [N, C, L] (or unbatched [C, L])
    /// with <paramref name="weight"/> [O, C/groups, k], plus <paramref name="bias"/> [O]. The result is [N, O, L′] with
    /// L′ = ⌊(L + 2·padding − dilation·(k − 1) − 1) / stride⌋ + 1.
    /// </summary>
    /// <param name="groups">Splits the input and output channels into this many groups, each convolved with its own slice of the weight.</param>
    public static Tensor Conv1d(Tensor input, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        if (weight.Rank != 3)
            throw new ShapeMismatchException("Conv1d", $"weight must be [out channels, in channels / groups, k]; got {weight.Shape}");
        if (input.Rank is not (2 or 3))
            throw new ShapeMismatchException("Conv1d", $"input must be [N, C, L] or [C, L]; got {input.Shape}");
        var y = Conv2d(input.Unsqueeze(-2), weight.Unsqueeze(2), bias, (1, stride), (0, padding), (1, dilation), groups);
        return y.Squeeze(-2);
    }

    /// <summary>
    /// 2-D convolution (cross-correlation, as in PyTorch) of <paramref name="input"/> [N, C, H, W] (or unbatched
    /// [C, H, W]) with <paramref name="weight"/> [O, C/groups, kh, kw], plus <paramref name="bias"/> [O]. The result
    /// is [N, O, H′, W′] with H′ = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1, and W′ likewise.
    /// </summary>
    /// <param name="stride">Step between windows (default 1); an int, or (height, width).</param>
    /// <param name="padding">Zeros added on both sides of each spatial dim (default 0).</param>
    /// <param name="dilation">Spacing between kernel taps (default 1).</param>
    /// <param name="groups">Splits the input and output channels into this many groups, each convolved with its own slice of the weight.</param>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias = null, Size2d? stride = null, Size2d? padding = null,
        Size2d? dilation = null, int groups = 1)
    {
        const string op = "Conv2d";
        (input, weight, bias) = (Autocast.ToLowPrecision(input), Autocast.ToLowPrecision(weight), Autocast.ToLowPrecisionOrNull(bias));
        if (weight.Rank != 4)
            throw new ShapeMismatchException(op, $"weight must be [out channels, in channels / groups, kh, kw]; got {weight.Shape}");
        var window = ConvWindow(op, new Size2d(weight.Sizes[2], weight.Sizes[3]), stride, padding, dilation);
        var (x, batched) = SpatialInput(op, input, weight);
        int channels = x.Sizes[1], outChannels = weight.Sizes[0];
        CheckGroups(op, groups, channels, outChannels);
        if (weight.Sizes[1] != channels / groups)
            throw new ShapeMismatchException(op,
                $"weight {weight.Shape} expects {weight.Sizes[1] * groups} input channels with groups = {groups}, but the input {input.Shape} has {channels}");
        bias = CheckBias(op, bias, weight, outChannels);
        int outH = window.OutputHeight(x.Sizes[2]), outW = window.OutputWidth(x.Sizes[3]);
        if (outH < 1 || outW < 1)
            throw new ShapeMismatchException(op,
                $"the input {input.Shape} is smaller than the kernel {weight.Shape} with {window} (the output would be {outH}×{outW})");
        var y = Conv2dOp.Apply(x, weight, bias, window, groups, outH, outW);
        return batched ? y : y.Squeeze(0);
    }

    /// <summary>
    /// 2-D transposed convolution (the gradient of <see cref="Conv2d"/> with respect to its input, sometimes called
    /// deconvolution) of <paramref name="input"/> [N, C, H, W] (or [C, H, W]) with <paramref name="weight"/>
    /// [C, O/groups, kh, kw], plus <paramref name="bias"/> [O]. The result is [N, O, H′, W′] with
    /// H′ = (H − 1)·stride − 2·padding + dilation·(kh − 1) + outputPadding + 1, and W′ likewise.
    /// </summary>
    /// <param name="outputPadding">Extra rows and columns on the bottom and right of the output, to pick among the input sizes a strided Conv2d maps to the same size; smaller than stride or dilation.</param>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias = null, Size2d? stride = null, Size2d? padding = null,
        Size2d? outputPadding = null, int groups = 1, Size2d? dilation = null)
    {
        const string op = "ConvTranspose2d";
        (input, weight, bias) = (Autocast.ToLowPrecision(input), Autocast.ToLowPrecision(weight), Autocast.ToLowPrecisionOrNull(bias));
        if (weight.Rank != 4)
            throw new ShapeMismatchException(op, $"weight must be [in channels, out channels / groups, kh, kw]; got {weight.Shape}");
        var window = ConvWindow(op, new Size2d(weight.Sizes[2], weight.Sizes[3]), stride, padding, dilation);
        var (x, batched) = SpatialInput(op, input, weight);
        int channels = x.Sizes[1], outChannels = weight.Sizes[1] * groups;
        CheckGroups(op, groups, channels, outChannels);
        if (weight.Sizes[0] != channels)
            throw new ShapeMismatchException(op, $"weight {weight.Shape} expects {weight.Sizes[0]} input channels, but the input {input.Shape} has {channels}");
        bias = CheckBias(op, bias, weight, outChannels);
        var extra = outputPadding ?? 0;
        if (extra.Height < 0 || extra.Width < 0
            || (extra.Height >= window.Stride.Height && extra.Height >= window.Dilation.Height)
            || (extra.Width >= window.Stride.Width && extra.Width >= window.Dilation.Width))
            throw new ArgumentException($"{op}: outputPadding {extra} must be non-negative and smaller than either the stride {window.Stride} or the dilation {window.Dilation}.");
        int outH = TransposedSize(x.Sizes[2], window.Kernel.Height, window.Stride.Height, window.Padding.Height, window.Dilation.Height, extra.Height);
        int outW = TransposedSize(x.Sizes[3], window.Kernel.Width, window.Stride.Width, window.Padding.Width, window.Dilation.Width, extra.Width);
        if (outH < 1 || outW < 1)
            throw new ShapeMismatchException(op, $"the output for input {input.Shape}, weight {weight.Shape} and {window} would be {outH}×{outW}");
        var y = ConvTranspose2dOp.Apply(x, weight, bias, window, groups, outH, outW);
        return batched ? y : y.Squeeze(0);
    }

    private static int TransposedSize(int input, int kernel, int stride, int padding, int dilation, int outputPadding) =>
        (input - 1) * stride - 2 * padding + dilation * (kernel - 1) + outputPadding + 1;

    private static Window2d ConvWindow(string op, Size2d kernel, Size2d? stride, Size2d? padding, Size2d? dilation)
    {
        var window = new Window2d(kernel, stride ?? 1, padding ?? 0, dilation ?? 1);
        if (kernel.Height < 1 || kernel.Width < 1) throw new ArgumentException($"{op}: kernel size must be positive; got {kernel}.");
        if (window.Stride.Height < 1 || window.Stride.Width < 1) throw new ArgumentException($"{op}: stride must be positive; got {window.Stride}.");
        if (window.Padding.Height < 0 || window.Padding.Width < 0) throw new ArgumentException($"{op}: padding must be non-negative; got {window.Padding}.");
        if (window.Dilation.Height < 1 || window.Dilation.Width < 1) throw new ArgumentException($"{op}: dilation must be positive; got {window.Dilation}.");
        return window;
    }

    /// <summary>The input as [N, C, H, W] in the weight's dtype (unbatched [C, H, W] gains N = 1), and whether it was batched.</summary>
    private static (Tensor Input, bool Batched) SpatialInput(string op, Tensor input, Tensor? weight = null)
    {
        if (input.Rank is not (3 or 4))
            throw new ShapeMismatchException(op, $"input must be [N, C, H, W] or unbatched [C, H, W]; got {input.Shape}");
        if (!input.DType.IsFloatingPoint()) throw new NotSupportedException($"{op}: input must be floating-point; got {input.DType.DisplayName()}.");
        if (weight is not null)
        {
            if (weight.Device != input.Device)
                throw new ArgumentException($"{op}: input is on {input.Device} but weight is on {weight.Device}.");
            if (!weight.DType.IsFloatingPoint()) throw new NotSupportedException($"{op}: weight must be floating-point; got {weight.DType.DisplayName()}.");
            if (input.DType != weight.DType) input = input.To(weight.DType);
        }
        return input.Rank == 4 ? (input, true) : (input.Unsqueeze(0), false);
    }

    private static void CheckGroups(string op, int groups, int inChannels, int outChannels)
    {
        if (groups < 1) throw new ArgumentException($"{op}: groups must be positive; got {groups}.");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ShapeMismatchException(op, $"{inChannels} input and {outChannels} output channels are not both divisible by groups = {groups}");
    }

    /// <summary>Checks the bias is one value per output channel and returns it in the weight's dtype.</summary>
    private static Tensor? CheckBias(string op, Tensor? bias, Tensor weight, int outChannels)
    {
        if (bias is null) return null;
        if (bias.Rank != 1 || bias.Sizes[0] != outChannels)
            throw new ShapeMismatchException(op, $"bias must be [{outChannels}] (one per output channel); got {bias.Shape}");
        if (bias.Device != weight.Device) throw new ArgumentException($"{op}: bias is on {bias.Device} but weight is on {weight.Device}.");
        return bias.To(weight.DType);
    }
}
