namespace Backprop.Nn;

/// <summary>
/// 2-D max pooling (see <see cref="Functional.MaxPool2d"/>): the largest value of each window of [N, C, H, W] (or
/// [C, H, W]). For the positions of the maxima, call <see cref="Functional.MaxPool2dWithIndices"/>.
/// </summary>
/// <example><c>var pool = new MaxPool2d(2);</c> halves the height and width.</example>
public sealed class MaxPool2d : Module<Tensor, Tensor>
{
    /// <param name="stride">Step between windows; defaults to the kernel size.</param>
    /// <param name="padding">Implicit −∞ padding on both sides; at most half the kernel.</param>
    /// <param name="ceilMode">Round the output size up, so a partial window at the end is pooled too.</param>
    public MaxPool2d(Size2d kernelSize, Size2d? stride = null, Size2d? padding = null, Size2d? dilation = null, bool ceilMode = false)
    {
        PoolingLayout.Check("MaxPool2d", kernelSize, stride, padding, dilation);
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
        Padding = padding ?? 0;
        Dilation = dilation ?? 1;
        CeilMode = ceilMode;
    }

    public Size2d KernelSize { get; }

    public Size2d Stride { get; }

    public Size2d Padding { get; }

    public Size2d Dilation { get; }

    public bool CeilMode { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.MaxPool2d(input, KernelSize, Stride, Padding, Dilation, CeilMode);

    protected override string ExtraDescription =>
        $"kernelSize: {KernelSize}, stride: {Stride}, padding: {Padding}, dilation: {Dilation}, ceilMode: {CeilMode}";
}
