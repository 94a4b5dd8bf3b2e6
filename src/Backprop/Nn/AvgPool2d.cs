namespace Backprop.Nn;

/// <summary>2-D average pooling (see <see cref="Functional.AvgPool2d"/>): the mean of each window of [N, C, H, W] (or [C, H, W]).</summary>
public sealed class AvgPool2d : Module<Tensor, Tensor>
{
    /// <param name="stride">Step between windows; defaults to the kernel size.</param>
    /// <param name="padding">Implicit zero padding on both sides; at most half the kernel.</param>
    /// <param name="ceilMode">Round the output size up, so a partial window at the end is pooled too.</param>
    /// <param name="countIncludePad">Whether the zero padding counts in the divisor (PyTorch's default) or only input elements do.</param>
    public AvgPool2d(Size2d kernelSize, Size2d? stride = null, Size2d? padding = null, bool ceilMode = false, bool countIncludePad = true)
    {
        PoolingLayout.Check("AvgPool2d", kernelSize, stride, padding, 1);
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding ?? 0;
        CeilMode = ceilMode;
        CountIncludePad = countIncludePad;
    }

    public Size2d KernelSize { get; }

    public Size2d Stride { get; }

    public Size2d Padding { get; }

    public bool CeilMode { get; }

    public bool CountIncludePad { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.AvgPool2d(input, KernelSize, Stride, Padding, CeilMode, CountIncludePad);

    protected override string ExtraDescription =>
        $"kernelSize: {KernelSize}, stride: {Stride}, padding: {Padding}, ceilMode: {CeilMode}, countIncludePad: {CountIncludePad}";
}
