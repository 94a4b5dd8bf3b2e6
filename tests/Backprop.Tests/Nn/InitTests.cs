using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class InitTests
{
    [Theory]
    [InlineData(Nonlinearity.Linear, null, 1.0)]
    [InlineData(Nonlinearity.Sigmoid, null, 1.0)]
    [InlineData(Nonlinearity.Tanh, null, 5.0 / 3)]
    [InlineData(Nonlinearity.Relu, null, 1.4142135623730951)]
    [InlineData(Nonlinearity.LeakyRelu, null, 1.4141428569978354)] // √(2 / 1.0001)
    [InlineData(Nonlinearity.LeakyRelu, 0.2, 1.3867504905630728)] // √(2 / 1.04)
    [InlineData(Nonlinearity.Selu, null, 0.75)]
    public void Gains_are_pytorchs(Nonlinearity nonlinearity, double? parameter, double expected) =>
        Assert.Equal(expected, Init.CalculateGain(nonlinearity, parameter), 12);

    [Fact]
    public void Fans_count_the_receptive_field()
    {
        Assert.Equal((36, 72), Init.CalculateFans(Tensor.Zeros(8, 4, 3, 3)));
        Assert.Equal((5, 7), Init.CalculateFans(Tensor.Zeros(7, 5)));
        Assert.Throws<ArgumentException>(() => Init.CalculateFans(Tensor.Zeros(7)));
    }

    [Fact]
    public void Xavier_uniform_fills_plus_minus_gain_root_six_over_fans()
    {
        var w = Init.XavierUniform(Tensor.Zeros(60, 40), gain: 2, new Generator(1)).ToArray<float>();
        double bound = 2 * Math.Sqrt(6.0 / 100);
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.True(w.Max() > 0.97 * bound && w.Min() < -0.97 * bound);
    }

    [Fact]
    public void Kaiming_uniform_default_is_for_relu_and_fan_in()
    {
        var t = Init.KaimingUniform(Tensor.Zeros(50, 24), generator: new Generator(2)).ToArray<float>();
        double bound = Math.Sqrt(6.0 / 24); // gain √2 times √(3 / fanIn)
        Assert.All(t, v => Assert.InRange(v, -bound, bound));
        Assert.True(t.Max() > 0.97 * bound);

        var fanOut = Init.KaimingUniform(Tensor.Zeros(50, 24), mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu, generator: new Generator(2));
        Assert.InRange(fanOut.Abs().Max().Item(), 0.97 * Math.Sqrt(6.0 / 50), Math.Sqrt(6.0 / 50));
    }

    [Fact]
    public void Normal_initialisers_have_the_documented_spread()
    {
        double Std(Tensor t)
        {
            var v = t.ToArray<float>();
            double mean = v.Average(x => (double)x);
            return Math.Sqrt(v.Average(x => (x - mean) * (x - mean)));
        }
        var kaiming = Init.KaimingNormal(Tensor.Zeros(200, 100), nonlinearity: Nonlinearity.Relu, generator: new Generator(3));
        Assert.InRange(Std(kaiming), 0.97 * Math.Sqrt(2.0 / 100), 1.03 * Math.Sqrt(2.0 / 100));
        var xavier = Init.XavierNormal(Tensor.Zeros(200, 100), generator: new Generator(4));
        Assert.InRange(Std(xavier), 0.97 * Math.Sqrt(2.0 / 300), 1.03 * Math.Sqrt(2.0 / 300));
        var normal = Init.Normal(Tensor.Zeros(100, 100), mean: 3, std: 0.5, generator: new Generator(5));
        Assert.InRange(normal.Mean().Item(), 2.98, 3.02);
        Assert.InRange(Std(normal), 0.485, 0.515);
    }

    [Fact]
    public void Constant_fills_work_on_parameters_without_recording()
    {
        var p = new Parameter(Tensor.Randn(2, 3));
        Assert.Same(p, Init.Constant(p, 0.25));
        Assert.All(p.ToArray<float>(), v => Assert.Equal(0.25f, v));
        Assert.All(Init.Ones(p).ToArray<float>(), v => Assert.Equal(1f, v));
        Assert.All(Init.Zeros(p).ToArray<float>(), v => Assert.Equal(0f, v));
        Assert.True(p.IsLeaf);
        var u = Init.Uniform(Tensor.Zeros([1000], DType.Float64), -3, -2, new Generator(6)).ToArray<double>();
        Assert.All(u, v => Assert.InRange(v, -3, -2));
    }
}
