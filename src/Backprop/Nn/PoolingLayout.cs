namespace Backprop.Nn;

/// <summary>The argument checks the pooling modules share, made when the layer is built rather than at its first call.</summary>
internal static class PoolingLayout
{
    public static void Check(string layer, Size2d kernelSize, Size2d? stride, Size2d? padding, Size2d? dilation)
    {
        var s = stride ?? kernelSize;
        var p = padding ?? 0;
        var d = dilation ?? 1;
        if (kernelSize.Height <= 0 || kernelSize.Width <= 0)
            throw new ArgumentOutOfRangeException(nameof(kernelSize), $"{layer}: kernelSize must be positive; got {kernelSize}.");
        if (s.Height <= 0 || s.Width <= 0) throw new ArgumentOutOfRangeException(nameof(stride), $"{layer}: stride must be positive; got {s}.");
        if (d.Height <= 0 || d.Width <= 0) throw new ArgumentOutOfRangeException(nameof(dilation), $"{layer}: dilation must be positive; got {d}.");
        if (p.Height < 0 || p.Width < 0 || p.Height > kernelSize.Height / 2 || p.Width > kernelSize.Width / 2)
            throw new ArgumentOutOfRangeException(nameof(padding), $"{layer}: padding {p} must be non-negative and at most half the kernel size {kernelSize}.");
    }
}
