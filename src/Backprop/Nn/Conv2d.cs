using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// 2-D convolution over [N, <see cref="InChannels"/>, H, W] (or unbatched [C, H, W]) inputs (see
/// <see cref="Functional.Conv2d"/>). Initialised as PyTorch does: the weight Kaiming-uniform with a = √5, i.e.
/// U(±1/√fanIn), and the bias U(±1/√fanIn), with fanIn = InChannels/Groups·kh·kw.
/// </summary>
/// <example><c>var conv = new Conv2d(1, 16, kernelSize: 3, padding: 1);</c></example>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    /// <param name="kernelSize">The window, an int or (height, width).</param>
    /// <param name="stride">Step between windows (default 1).</param>
    /// <param name="padding">Zeros added on both sides of each spatial dim (default 0).</param>
    /// <param name="dilation">Spacing between kernel taps (default 1).</param>
    /// <param name="groups">Splits the channels into this many groups, each convolved with its own filters.</param>
    /// <param name="bias">Whether to learn an additive bias per output channel.</param>
    /// <param name="generator">Draws the initial values; <see cref="Generator.Default"/> when null.</param>
    public Conv2d(int inChannels, int outChannels, Size2d kernelSize, Size2d? stride = null, Size2d? padding = null,
        Size2d? dilation = null, int groups = 1, bool bias = true, DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    {
        ConvolutionLayout.Check("Conv2d", inChannels, outChannels, groups, kernelSize, stride, padding, dilation);
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
        Weight = new Parameter(Tensor.Empty([outChannels, inChannels / groups, kernelSize.Height, kernelSize.Width], dtype, device));
        Bias = ConvolutionLayout.ResetParameters(Weight, bias, outChannels, generator);
    }

    public int InChannels { get; }

    public int OutChannels { get; }

    public Size2d KernelSize { get; }

    public Size2d Stride { get; }

    public Size2d Padding { get; }

    public Size2d Dilation { get; }

    public int Groups { get; }

    /// <summary>[<see cref="OutChannels"/>, <see cref="InChannels"/>/<see cref="Groups"/>, kh, kw].</summary>
    public Parameter Weight { get; set; }

    /// <summary>[<see cref="OutChannels"/>], or null without bias.</summary>
    public Parameter? Bias { get; set; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Conv2d(input, Weight, Bias, Stride, Padding, Dilation, Groups);

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"{InChannels}, {OutChannels}, kernelSize: {KernelSize}, stride: {Stride}")
        + ConvolutionLayout.Options(Padding, Dilation, Groups, Bias is not null);
}
