using System.Globalization;

namespace Backprop.Nn;

/// <summary>What the convolution modules share: argument checks, PyTorch's initialisation and their descriptions.</summary>
internal static class ConvolutionLayout
{
    public static void Check(string layer, int inChannels, int outChannels, int groups, Size2d kernelSize, Size2d? stride, Size2d? padding,
        Size2d? dilation, Size2d? outputPadding = null)
    {
        if (inChannels <= 0 || outChannels <= 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), $"{layer}: channel counts must be positive; got {inChannels} → {outChannels}.");
        if (groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentOutOfRangeException(nameof(groups), $"{layer}: {inChannels} input and {outChannels} output channels must both divide into groups = {groups}.");
        Positive(layer, "kernelSize", kernelSize);
        Positive(layer, "stride", stride ?? 1);
        Positive(layer, "dilation", dilation ?? 1);
        var pad = padding ?? 0;
        if (pad.Height < 0 || pad.Width < 0) throw new ArgumentOutOfRangeException(nameof(padding), $"{layer}: padding must be non-negative; got {pad}.");
        var extra = outputPadding ?? 0;
        if (extra.Height < 0 || extra.Width < 0) throw new ArgumentOutOfRangeException(nameof(outputPadding), $"{layer}: outputPadding must be non-negative; got {extra}.");
    }

    private static void Positive(string layer, string name, Size2d size)
    {
        if (size.Height <= 0 || size.Width <= 0) throw new ArgumentOutOfRangeException(name, $"{layer}: {name} must be positive; got {size}.");
    }

    /// <summary>
    /// PyTorch's <c>_ConvNd.reset_parameters</c>: the weight Kaiming-uniform with a = √5, which is U(±1/√fanIn), then
    /// a bias U(±1/√fanIn) when asked for, with fanIn from the weight's shape (dim 1 times the kernel taps).
    /// </summary>
    public static Parameter? ResetParameters(Parameter weight, bool bias, int outChannels, Generator? generator)
    {
        Init.KaimingUniform(weight, a: Math.Sqrt(5), generator: generator);
        if (!bias) return null;
        var (fanIn, _) = Init.CalculateFans(weight);
        double bound = 1 / Math.Sqrt(fanIn);
        var b = new Parameter(Tensor.Empty([outChannels], weight.DType, weight.Device));
        Init.Uniform(b, -bound, bound, generator);
        return b;
    }

    /// <summary>The settings that differ from their defaults, as PyTorch's description lists them.</summary>
    public static string Options(Size2d padding, Size2d dilation, int groups, bool bias, Size2d? outputPadding = null)
    {
        var parts = new List<string>();
        if (padding != new Size2d(0, 0)) parts.Add($"padding: {padding}");
        if (outputPadding is { } extra && extra != new Size2d(0, 0)) parts.Add($"outputPadding: {extra}");
        if (dilation != new Size2d(1, 1)) parts.Add($"dilation: {dilation}");
        if (groups != 1) parts.Add(string.Create(CultureInfo.InvariantCulture, $"groups: {groups}"));
        if (!bias) parts.Add("bias: False");
        return string.Concat(parts.Select(p => ", " + p));
    }
}
