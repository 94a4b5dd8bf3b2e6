using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Optim;

public class GradientClippingTests
{
    private static Parameter[] WithGradients(params double[][] grads) => grads.Select(g =>
    {
        var p = new Parameter(Tensor.Zeros([g.Length], DType.Float64));
        p.Grad = Tensor.FromArray(g);
        return p;
    }).ToArray();

    [Fact]
    public void ClipGradNorm_scales_all_gradients_to_the_bound_and_returns_the_norm_before()
    {
        var ps = WithGradients([3, 4], [12]); // joint 2-norm 13
        double norm = GradientClipping.ClipGradNorm(ps, maxNorm: 6.5);
        Assert.Equal(13, norm, 12);
        double scale = 6.5 / (13 + 1e-6);
        Assert.Equal([3 * scale, 4 * scale], ps[0].Grad!.ToArray<double>());
        Assert.Equal([12 * scale], ps[1].Grad!.ToArray<double>());
        Assert.Equal(6.5, Math.Sqrt(ps.Sum(p => p.Grad!.Square().Sum().Item())), 6);
    }

    [Fact]
    public void ClipGradNorm_leaves_gradients_within_the_bound_alone()
    {
        var ps = WithGradients([3, 4], [12]);
        Assert.Equal(13, GradientClipping.ClipGradNorm(ps, maxNorm: 20), 12);
        Assert.Equal([3.0, 4.0], ps[0].Grad!.ToArray<double>());
    }

    [Theory]
    [InlineData(1.0, 19.0)]
    [InlineData(3.0, 12.207054953820636)] // (27 + 64 + 1728)^(1/3)
    [InlineData(double.PositiveInfinity, 12.0)]
    public void ClipGradNorm_other_norms(double normType, double expected)
    {
        var ps = WithGradients([3, -4], [-12]);
        Assert.Equal(expected, GradientClipping.ClipGradNorm(ps, maxNorm: 1, normType), 10);
        Assert.Equal(-12 / (expected + 1e-6), ps[1].Grad!.ToArray<double>()[0], 12);
    }

    [Fact]
    public void ClipGradNorm_skips_parameters_without_gradients_and_can_refuse_non_finite_norms()
    {
        var ps = WithGradients([3, 4]).Append(new Parameter(Tensor.Zeros(3))).ToArray();
        Assert.Equal(5, GradientClipping.ClipGradNorm(ps, 1), 12);
        Assert.Equal(0, GradientClipping.ClipGradNorm([new Parameter(Tensor.Zeros(3))], 1));
        var bad = WithGradients([double.NaN, 1]);
        Assert.Throws<InvalidOperationException>(() => GradientClipping.ClipGradNorm(bad, 1, errorIfNonfinite: true));
    }

    [Fact]
    public void ClipGradValue_clamps_each_element()
    {
        var ps = WithGradients([3, -4, 0.5], [-12]);
        GradientClipping.ClipGradValue(ps, 1);
        Assert.Equal([1.0, -1.0, 0.5], ps[0].Grad!.ToArray<double>());
        Assert.Equal([-1.0], ps[1].Grad!.ToArray<double>());
    }
}
