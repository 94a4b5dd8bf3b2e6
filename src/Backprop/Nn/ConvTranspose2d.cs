using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// 2-D transposed convolution (see <see cref="Functional.ConvTranspose2d"/>): maps [N, <see cref="InChannels"/>, H, W]
/// to [N, <see cref="OutChannels"/>, H′, W′], the shape a <see cref="Conv2d"/> with the same settings maps back from.
/// Initialised as PyTorch does, with fanIn taken from the weight [InChannels, OutChannels/Groups, kh, kw] as for a
/// convolution: OutChannels/Groups·kh·kw.
/// </summary>
public sealed class ConvTranspose2d : Module<Tensor, Tensor>
{
    /// <param name="outputPadding">Extra rows and columns on the bottom and right of the output, smaller than the stride or the dilation.</param>
    /// <param name="generator">Draws the initial values; <see cref="Generator.Default"/> when null.</param>
    public ConvTranspose2d(int inChannels, int outChannels, Size2d kernelSize, Size2d? stride = null, Size2d? padding = null,
        Size2d? outputPadding = null, int groups = 1, bool bias = true, Size2d? dilation = null, DType dtype = DType.Float32,
        Generator? generator = null, Device? device = null)
    {
        ConvolutionLayout.Check("ConvTranspose2d", inChannels, outChannels, groups, kernelSize, stride, padding, dilation, outputPadding);
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride ?? 1;
        Padding = padding ?? 0;
        OutputPadding = outputPadding ?? 0;
        Dilation = dilation ?? 1;
        Groups = groups;
        if ((OutputPadding.Height >= Stride.Height && OutputPadding.Height >= Dilation.Height)
            || (OutputPadding.Width >= Stride.Width && OutputPadding.Width >= Dilation.Width))
            throw new ArgumentOutOfRangeException(nameof(outputPadding),
                $"ConvTranspose2d: outputPadding {OutputPadding} must be smaller than either the stride {Stride} or the dilation {Dilation}.");
        Weight = new Parameter(Tensor.Empty([inChannels, outChannels / groups, kernelSize.Height, kernelSize.Width], dtype, device));
        Bias = ConvolutionLayout.ResetParameters(Weight, bias, outChannels, generator);
    }

    public int InChannels { get; }

    public int OutChannels { get; }

    public Size2d KernelSize { get; }

    public Size2d Stride { get; }

    public Size2d Padding { get; }

    public Size2d OutputPadding { get; }

    public Size2d Dilation { get; }

    public int Groups { get; }

    /// <summary>[<see cref="InChannels"/>, <see cref="OutChannels"/>/<see cref="Groups"/>, kh, kw].</summary>
    public Parameter Weight { get; set; }

    /// <summary>[<see cref="OutChannels"/>], or null without bias.</summary>
    public Parameter? Bias { get; set; }

    protected override Tensor ForwardCore(Tensor input) =>
        Functional.ConvTranspose2d(input, Weight, Bias, Stride, Padding, OutputPadding, Groups, Dilation);

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"{InChannels}, {OutChannels}, kernelSize: {KernelSize}, stride: {Stride}")
        + ConvolutionLayout.Options(Padding, Dilation, Groups, Bias is not null, OutputPadding);
}
