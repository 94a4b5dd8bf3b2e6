namespace Backprop;

/// <summary>
/// Where a 2-D sliding window reads its input (convolution, im2col, pooling): output position (oh, ow) and kernel
/// tap (i, j) read input row <c>oh·Stride.Height − Padding.Height + i·Dilation.Height</c> and the matching column;
/// positions outside the input are padding.
/// </summary>
public readonly record struct Window2d(Size2d Kernel, Size2d Stride, Size2d Padding, Size2d Dilation)
{
    /// <summary>
    /// The number of window positions along one dim of an input of size <paramref name="input"/>:
    /// ⌊(input + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1, or rounded up in <paramref name="ceilMode"/>,
    /// where (as in PyTorch) a last window that would start in the right padding is dropped.
    /// </summary>
    public static int OutputSize(int input, int kernel, int stride, int padding, int dilation, bool ceilMode = false)
    {
        int span = input + 2 * padding - dilation * (kernel - 1) - 1;
        if (span < 0) return 0;
        int size = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
        if (ceilMode && (size - 1) * stride >= input + padding) size--;
        return size;
    }

    public int OutputHeight(int inputHeight, bool ceilMode = false) =>
        OutputSize(inputHeight, Kernel.Height, Stride.Height, Padding.Height, Dilation.Height, ceilMode);

    public int OutputWidth(int inputWidth, bool ceilMode = false) =>
        OutputSize(inputWidth, Kernel.Width, Stride.Width, Padding.Width, Dilation.Width, ceilMode);

    public override string ToString() => $"kernel {Kernel}, stride {Stride}, padding {Padding}, dilation {Dilation}";
}
