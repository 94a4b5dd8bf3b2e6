using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class ConvolutionModuleTests
{
    [Fact]
    public void Conv2d_has_pytorchs_weight_shape_names_and_output_size()
    {
        var conv = new Conv2d(3, 8, kernelSize: (3, 2), stride: 2, padding: (1, 0), generator: new Generator(1));

        Assert.Equal(["weight", "bias"], conv.StateDict().Keys);
        Assert.Equal([8, 3, 3, 2], conv.Weight.Shape.ToArray());
        Assert.Equal([8], conv.Bias!.Shape.ToArray());
        // ⌊(9 + 2 − 3)/2⌋ + 1 = 5 rows, ⌊(12 − 2)/2⌋ + 1 = 6 columns; unbatched input keeps no batch dim.
        Assert.Equal([2, 8, 5, 6], conv.Forward(Tensor.Randn(2, 3, 9, 12)).Shape.ToArray());
        Assert.Equal([8, 5, 6], conv.Forward(Tensor.Randn(3, 9, 12)).Shape.ToArray());
        Assert.Equal("Conv2d(3, 8, kernelSize: (3, 2), stride: 2, padding: (1, 0))", conv.ToString());
    }

    [Fact]
    public void Conv2d_passes_every_option_to_the_functional_convolution()
    {
        var conv = new Conv2d(4, 6, 3, stride: (2, 1), padding: 2, dilation: (1, 2), groups: 2, generator: new Generator(2));
        var x = Tensor.Randn(new Shape(2, 4, 7, 8), generator: new Generator(3));

        var expected = Functional.Conv2d(x, conv.Weight, conv.Bias, stride: (2, 1), padding: 2, dilation: (1, 2), groups: 2);

        Assert.Equal([6, 2, 3, 3], conv.Weight.Shape.ToArray());
        Assert.Equal(expected.ToArray<float>(), conv.Forward(x).ToArray<float>());
    }

    [Fact]
    public void Conv1d_and_ConvTranspose2d_have_pytorchs_weight_layouts()
    {
        var conv1d = new Conv1d(4, 6, kernelSize: 5, stride: 2, padding: 1, groups: 2);
        Assert.Equal([6, 2, 5], conv1d.Weight.Shape.ToArray());
        Assert.Equal([3, 6, 9], conv1d.Forward(Tensor.Randn(3, 4, 20)).Shape.ToArray()); // ⌊(20 + 2 − 5)/2⌋ + 1
        Assert.Equal(["weight"], new Conv1d(2, 2, 3, bias: false).StateDict().Keys);

        var up = new ConvTranspose2d(8, 4, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2);
        Assert.Equal([8, 2, 3, 3], up.Weight.Shape.ToArray());
        // (7 − 1)·2 − 2 + 3 + 1 = 14: the size a stride-2 convolution maps back to 7.
        Assert.Equal([1, 4, 14, 14], up.Forward(Tensor.Randn(1, 8, 7, 7)).Shape.ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => new ConvTranspose2d(2, 2, 3, stride: 2, outputPadding: 2));
    }

    [Theory]
    [InlineData(16, 32, 3, 1, 144)] // fanIn = 16·3·3
    [InlineData(8, 4, 5, 2, 100)] // groups: fanIn = 8/2·5·5
    public void Conv2d_initialises_weight_and_bias_uniformly_within_one_over_root_fan_in(int inChannels, int outChannels, int k, int groups, int fanIn)
    {
        var conv = new Conv2d(inChannels, outChannels, k, groups: groups, generator: new Generator(4));
        double bound = 1 / Math.Sqrt(fanIn);
        AssertUniform(conv.Weight, bound);
        Assert.All(conv.Bias!.ToArray<float>(), v => Assert.InRange(v, -bound, bound));
        Assert.True(conv.Bias!.Abs().Max().Item() > bound / 4);
    }

    [Fact]
    public void Conv1d_and_ConvTranspose2d_take_fan_in_from_the_weights_second_dim()
    {
        AssertUniform(new Conv1d(6, 40, 5, generator: new Generator(5)).Weight, 1 / Math.Sqrt(30));
        // PyTorch computes the transposed convolution's fanIn from weight [in, out/groups, k, k]: 6/2·3·3 = 27.
        var up = new ConvTranspose2d(40, 6, 3, groups: 2, generator: new Generator(6));
        AssertUniform(up.Weight, 1 / Math.Sqrt(27));
        Assert.All(up.Bias!.ToArray<float>(), v => Assert.InRange(v, -1 / Math.Sqrt(27), 1 / Math.Sqrt(27)));
    }

    /// <summary>Values within ±bound that reach close to both ends, with the spread of a uniform distribution (bound/√3).</summary>
    private static void AssertUniform(Tensor t, double bound)
    {
        var values = t.ToArray<float>();
        Assert.All(values, v => Assert.InRange(v, -bound, bound));
        Assert.True(values.Max() > 0.95 * bound && values.Min() < -0.95 * bound, $"max {values.Max()}, min {values.Min()}, bound {bound}");
        double std = Math.Sqrt(values.Average(v => (double)v * v));
        Assert.InRange(std, 0.9 * bound / Math.Sqrt(3), 1.1 * bound / Math.Sqrt(3));
    }

    [Fact]
    public void Generators_make_initialisation_reproducible()
    {
        var a = new Conv2d(3, 4, 3, generator: new Generator(7));
        var b = new Conv2d(3, 4, 3, generator: new Generator(7));
        Assert.Equal(a.Weight.ToArray<float>(), b.Weight.ToArray<float>());
        Assert.Equal(a.Bias!.ToArray<float>(), b.Bias!.ToArray<float>());
    }

    [Fact]
    public void Bad_settings_fail_when_the_layer_is_built()
    {
        Assert.Contains("divide into groups", Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(3, 6, 3, groups: 2)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(0, 6, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(3, 6, (3, 0)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv2d(3, 6, 3, padding: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Conv1d(3, 6, 3, stride: 0));
        var e = Assert.Throws<ShapeMismatchException>(() => new Conv2d(3, 6, 3).Forward(Tensor.Randn(1, 4, 8, 8)));
        Assert.Contains("[1, 4, 8, 8]", e.Message);
    }
}
