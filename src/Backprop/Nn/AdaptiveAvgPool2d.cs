namespace Backprop.Nn;

/// <summary>
/// Average pooling to a fixed output size whatever the input's (see <see cref="Functional.AdaptiveAvgPool2d"/>);
/// <c>new AdaptiveAvgPool2d(1)</c> is global average pooling, as at the end of a ResNet.
/// </summary>
public sealed class AdaptiveAvgPool2d : Module<Tensor, Tensor>
{
    public AdaptiveAvgPool2d(Size2d outputSize)
    {
        if (outputSize.Height <= 0 || outputSize.Width <= 0)
            throw new ArgumentOutOfRangeException(nameof(outputSize), $"AdaptiveAvgPool2d: outputSize must be positive; got {outputSize}.");
        OutputSize = outputSize;
    }

    public Size2d OutputSize { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.AdaptiveAvgPool2d(input, OutputSize);

    protected override string ExtraDescription => $"outputSize: {OutputSize}";
}
