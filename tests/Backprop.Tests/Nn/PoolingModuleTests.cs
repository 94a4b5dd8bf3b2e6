using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class PoolingModuleTests
{
    [Fact]
    public void MaxPool2d_defaults_its_stride_to_the_kernel_and_rounds_down_unless_ceil_mode()
    {
        var x = Tensor.Randn(2, 3, 7, 9);
        var pool = new MaxPool2d(2);
        Assert.Equal(new Size2d(2, 2), pool.Stride);
        Assert.Equal([2, 3, 3, 4], pool.Forward(x).Shape.ToArray());
        Assert.Equal([2, 3, 4, 5], new MaxPool2d(2, ceilMode: true).Forward(x).Shape.ToArray());
        Assert.Equal([2, 3, 4, 5], new MaxPool2d(3, stride: 2, padding: 1).Forward(x).Shape.ToArray());
        Assert.Empty(pool.StateDict());
    }

    [Fact]
    public void MaxPool2d_takes_the_largest_value_of_each_window()
    {
        var x = Tensor.FromArray(new float[] { 1, 5, 2, 0, 3, 4, 8, 1, 0, 0, 1, 1, 9, 0, 2, 7 }, 1, 1, 4, 4);
        Assert.Equal([5f, 8, 9, 7], new MaxPool2d(2).Forward(x).ToArray<float>());
    }

    [Fact]
    public void AvgPool2d_averages_and_counts_padding_as_pytorch_does()
    {
        var x = Tensor.Ones(1, 1, 4, 4);
        // A 3×3 window at a corner covers 4 ones and 5 padding zeros: 4/9 counting the padding, 1 without.
        Assert.Equal(4f / 9, new AvgPool2d(3, stride: 2, padding: 1).Forward(x).ToArray<float>()[0], 6);
        Assert.Equal(1f, new AvgPool2d(3, stride: 2, padding: 1, countIncludePad: false).Forward(x).ToArray<float>()[0], 6);
        Assert.Equal([1, 1, 2, 2], new AvgPool2d(3, stride: 2, padding: 1).Forward(x).Shape.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new AvgPool2d(2, padding: 2));
    }

    [Fact]
    public void AdaptiveAvgPool2d_of_one_is_the_mean_of_each_plane()
    {
        var x = Tensor.Randn(new Shape(2, 3, 5, 7), DType.Float64, new Generator(1));
        var y = new AdaptiveAvgPool2d(1).Forward(x);
        Assert.Equal([2, 3, 1, 1], y.Shape.ToArray());
        Assert.True(y.AllClose(x.Mean([2, 3], keepDim: true), 1e-12, 1e-12));
        Assert.Equal([2, 3, 2, 3], new AdaptiveAvgPool2d((2, 3)).Forward(x).Shape.ToArray());
    }

    [Fact]
    public void Upsample_repeats_nearest_pixels_and_Dropout2d_zeroes_whole_channels()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, 1, 1, 2, 2);
        Assert.Equal([1f, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], new Upsample(scaleFactor: 2).Forward(x).ToArray<float>());
        Assert.Equal([1, 1, 3, 5], new Upsample(size: (3, 5)).Forward(x).Shape.ToArray());
        Assert.Throws<ArgumentException>(() => new Upsample());

        var dropout = new Dropout2d(0.5, new Generator(3));
        var maps = Tensor.Ones(8, 16, 3, 3);
        var y = dropout.Forward(maps).ToArray<float>();
        int zeroed = 0;
        for (int plane = 0; plane < 8 * 16; plane++)
        {
            var values = y.AsSpan(plane * 9, 9).ToArray();
            Assert.True(values.All(v => v == 0) || values.All(v => v == 2), "a channel is zeroed whole or scaled by 1/(1 − p)");
            if (values[0] == 0) zeroed++;
        }
        Assert.InRange(zeroed, 40, 88);
        dropout.Eval();
        Assert.Equal(maps.ToArray<float>(), dropout.Forward(maps).ToArray<float>());
    }
}
