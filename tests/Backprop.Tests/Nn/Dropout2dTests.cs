using static Backprop.Nn.Functional;

namespace Backprop.Tests.Nn;

public class Dropout2dTests
{
    [Fact]
    public void Dropout2d_zeroes_whole_channels_and_scales_the_rest()
    {
        var x = Tensor.Rand(new Shape(8, 16, 3, 3), DType.Float64, new Generator(1)) + 1;
        var y = Dropout2d(x, 0.25, generator: new Generator(2));
        var xv = x.ToArray<double>();
        var yv = y.ToArray<double>();
        int dropped = 0;
        for (int plane = 0; plane < 8 * 16; plane++)
        {
            bool zero = yv[plane * 9] == 0;
            if (zero) dropped++;
            for (int i = 0; i < 9; i++)
                Assert.Equal(zero ? 0 : xv[plane * 9 + i] / 0.75, yv[plane * 9 + i], 12);
        }
        // 128 channels at p = 0.25: about 32 dropped (binomial σ ≈ 4.9).
        Assert.InRange(dropped, 12, 52);
    }

    [Fact]
    public void Dropout2d_is_repeatable_with_a_seeded_generator_and_routes_gradients_through_the_mask()
    {
        var x = Tensor.Ones(new Shape(4, 6, 2, 2), DType.Float64).SetRequiresGrad();
        var a = Dropout2d(x, 0.5, generator: new Generator(9));
        var b = Dropout2d(x, 0.5, generator: new Generator(9));
        Assert.Equal(a.ToArray<double>(), b.ToArray<double>());
        a.Sum().Backward();
        Assert.Equal(a.ToArray<double>(), x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Dropout2d_is_the_identity_in_eval_and_at_p_0()
    {
        var x = Tensor.Randn(2, 3, 4, 4);
        Assert.Same(x, Dropout2d(x, 0.5, training: false));
        Assert.Same(x, Dropout2d(x, 0));
        Assert.Equal(0, Dropout2d(x, 1).Abs().Sum().Item());
        Assert.Throws<ArgumentOutOfRangeException>(() => Dropout2d(x, 1.5));
        Assert.Throws<ShapeMismatchException>(() => Dropout2d(Tensor.Zeros(3, 4), 0.5));
    }
}
