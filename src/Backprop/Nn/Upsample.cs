using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// Nearest-neighbour resampling of [N, C, H, W] feature maps to a fixed <see cref="Size"/> or by a
/// <see cref="ScaleFactor"/> (see <see cref="Functional.Upsample"/>), as PyTorch's <c>Upsample(mode="nearest")</c>.
/// </summary>
/// <example><c>new Upsample(scaleFactor: 2)</c> doubles the height and width.</example>
public sealed class Upsample : Module<Tensor, Tensor>
{
    /// <param name="size">The output height and width; give this or <paramref name="scaleFactor"/>.</param>
    /// <param name="scaleFactor">The factor the height and width are multiplied by (the result rounded down).</param>
    public Upsample(Size2d? size = null, double? scaleFactor = null)
    {
        if ((size is null) == (scaleFactor is null)) throw new ArgumentException("Upsample: give either size or scaleFactor (exactly one).");
        if (size is { } s && (s.Height <= 0 || s.Width <= 0))
            throw new ArgumentOutOfRangeException(nameof(size), $"Upsample: size must be positive; got {s}.");
        if (scaleFactor is { } f && !(f > 0))
            throw new ArgumentOutOfRangeException(nameof(scaleFactor), $"Upsample: scaleFactor must be positive; got {f}.");
        Size = size;
        ScaleFactor = scaleFactor;
    }

    public Size2d? Size { get; }

    public double? ScaleFactor { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Upsample(input, Size, ScaleFactor);

    protected override string ExtraDescription => Size is { } s
        ? $"size: {s}, mode: nearest"
        : string.Create(CultureInfo.InvariantCulture, $"scaleFactor: {ScaleFactor}, mode: nearest");
}
