using Backprop.Ops;

namespace Backprop.Nn;

public static partial class Functional
{
    /// <summary>
    /// Nearest-neighbour upsampling (or downsampling) of [N, C, H, W] to <paramref name="size"/>, or by
    /// <paramref name="scaleFactor"/> (the output is ⌊H·scale⌋ × ⌊W·scale⌋); give exactly one. Output row i copies input
    /// row min(⌊i·s⌋, H − 1) with s = 1/scaleFactor, or H/OH when a size is given, as PyTorch's "nearest" mode does.
    /// </summary>
    public static Tensor Upsample(Tensor input, Size2d? size = null, double? scaleFactor = null)
    {
        const string op = "Upsample";
        if (input.Rank != 4) throw new ShapeMismatchException(op, $"input must be [N, C, H, W]; got {input.Shape}");
        if ((size is null) == (scaleFactor is null)) throw new ArgumentException($"{op}: give either size or scaleFactor (exactly one).");
        int h = input.Sizes[2], w = input.Sizes[3];
        if (scaleFactor is { } s && !(s > 0)) throw new ArgumentOutOfRangeException(nameof(scaleFactor), s, $"{op}: scaleFactor must be positive.");
        var outSize = size ?? new Size2d((int)Math.Floor(h * scaleFactor!.Value), (int)Math.Floor(w * scaleFactor.Value));
        if (outSize.Height < 1 || outSize.Width < 1 || h < 1 || w < 1)
            throw new ShapeMismatchException(op, $"cannot resample {input.Shape} to {outSize.Height}×{outSize.Width}");
        var rows = NearestIndices(h, outSize.Height, scaleFactor, input.Device);
        var columns = NearestIndices(w, outSize.Width, scaleFactor, input.Device);
        return UpsampleNearest2dOp.Apply(input, rows, columns);
    }

    /// <summary>PyTorch's source index for nearest mode, computed in single precision as it does, so results match it bit for bit.</summary>
    private static Tensor NearestIndices(int input, int output, double? scaleFactor, Device device)
    {
        float scale = scaleFactor is { } s ? (float)(1.0 / s) : (float)input / output;
        var indices = new long[output];
        for (int i = 0; i < output; i++)
            indices[i] = output == input ? i : Math.Min((long)MathF.Floor(i * scale), input - 1);
        return Tensor.FromArray(indices, [output], device: device);
    }
}
