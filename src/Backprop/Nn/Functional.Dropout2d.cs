using Backprop.Ops;

namespace Backprop.Nn;

public static partial class Functional
{
    /// <summary>
    /// Channel dropout for [N, C, H, W] (or unbatched [C, H, W]) feature maps: in training, each channel of each
    /// sample is zeroed as a whole with probability <paramref name="p"/> and the kept ones are scaled by 1/(1 − p),
    /// so the expected value is unchanged. Outside training it returns the input.
    /// </summary>
    /// <param name="generator">The random source for the mask; <see cref="Generator.Default"/> when null.</param>
    public static Tensor Dropout2d(Tensor input, double p = 0.5, bool training = true, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout2d: p must be a probability in [0, 1].");
        if (input.Rank is not (3 or 4))
            throw new ShapeMismatchException("Dropout2d", $"input must be [N, C, H, W] or unbatched [C, H, W]; got {input.Shape}");
        if (!training || p == 0) return input;
        var g = generator ?? Generator.Default;
        int[] maskSizes = [.. input.Sizes[..^2], 1, 1];
        var mask = new double[Shape.CountElements(maskSizes)];
        double kept = p == 1 ? 0 : 1 / (1 - p);
        DrawMask(g, p, kept, mask);
        return Dropout2dOp.Apply(input, Tensor.FromArray(mask, maskSizes).To(input.DType).To(input.Device));
    }
}
