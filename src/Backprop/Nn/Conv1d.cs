using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// 1-D convolution over [N, <see cref="InChannels"/>, L] (or unbatched [C, L]) inputs (see
/// <see cref="Functional.Conv1d"/>). Initialised as PyTorch does: weight and bias U(±1/√fanIn), with
/// fanIn = InChannels/Groups·kernelSize.
/// </summary>
public sealed class Conv1d : Module<Tensor, Tensor>
{
    /// <param name="stride">Step between windows.</param>
    /// <param name="padding">Zeros added on both ends.</param>
    /// <param name="dilation">Spacing between kernel taps.</param>
    /// <param name="groups">Splits the channels into this many groups, each convolved with its own filters.</param>
    /// <param name="bias">Whether to learn an additive bias per output channel.</param>
    /// <param name="generator">Draws the initial values; <see cref="Generator.Default"/> when null.</param>
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, int dilation = 1, int groups = 1,
        bool bias = true, DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    {
        ConvolutionLayout.Check("Conv1d", inChannels, outChannels, groups, kernelSize, stride, padding, dilation);
        InChannels = inChannels;
        OutChannels = outChannels;
        KernelSize = kernelSize;
        Stride = stride;
        Padding = padding;
        Dilation = dilation;
        Groups = groups;
        Weight = new Parameter(Tensor.Empty([outChannels, inChannels / groups, kernelSize], dtype, device));
        Bias = ConvolutionLayout.ResetParameters(Weight, bias, outChannels, generator);
    }

    public int InChannels { get; }

    public int OutChannels { get; }

    public int KernelSize { get; }

    public int Stride { get; }

    public int Padding { get; }

    public int Dilation { get; }

    public int Groups { get; }

    /// <summary>[<see cref="OutChannels"/>, <see cref="InChannels"/>/<see cref="Groups"/>, kernelSize].</summary>
    public Parameter Weight { get; set; }

    /// <summary>[<see cref="OutChannels"/>], or null without bias.</summary>
    public Parameter? Bias { get; set; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Conv1d(input, Weight, Bias, Stride, Padding, Dilation, Groups);

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"{InChannels}, {OutChannels}, kernelSize: {KernelSize}, stride: {Stride}")
        + ConvolutionLayout.Options(Padding, Dilation, Groups, Bias is not null);
}
