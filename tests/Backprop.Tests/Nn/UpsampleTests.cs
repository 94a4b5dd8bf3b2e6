using static Backprop.Nn.Functional;

namespace Backprop.Tests.Nn;

public class UpsampleTests
{
    [Fact]
    public void Upsample_by_2_repeats_each_pixel_in_a_2x2_block()
    {
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 1, 1, 2, 2);
        var y = Upsample(x, scaleFactor: 2);
        double[] expected =
        [
            1, 1, 2, 2,
            1, 1, 2, 2,
            3, 3, 4, 4,
            3, 3, 4, 4,
        ];
        Assert.Equal([1, 1, 4, 4], y.Shape.ToArray());
        Assert.Equal(expected, y.ToArray<double>());
    }

    [Fact]
    public void Upsample_to_a_size_uses_floor_of_the_scaled_index()
    {
        // 2 → 3 rows: source rows ⌊0·2/3⌋, ⌊1·2/3⌋, ⌊2·2/3⌋ = 0, 0, 1. 3 → 2 columns: ⌊0·1.5⌋, ⌊1·1.5⌋ = 0, 1.
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6 }, 1, 1, 2, 3);
        var y = Upsample(x, size: (3, 2));
        Assert.Equal([1.0, 2, 1, 2, 4, 5], y.ToArray<double>());
    }

    [Fact]
    public void Upsample_gradient_sums_over_the_copies()
    {
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 1, 1, 2, 2).SetRequiresGrad();
        var y = Upsample(x, size: (3, 3));
        // Rows and columns 0, 0, 1: pixel (0, 0) is copied 4 times, (0, 1) and (1, 0) twice, (1, 1) once.
        y.Sum().Backward();
        Assert.Equal([4.0, 2, 2, 1], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Upsample_needs_exactly_one_of_size_and_scale()
    {
        var x = Tensor.Zeros(1, 1, 2, 2);
        Assert.Throws<ArgumentException>(() => Upsample(x));
        Assert.Throws<ArgumentException>(() => Upsample(x, size: 4, scaleFactor: 2));
        Assert.Throws<ShapeMismatchException>(() => Upsample(Tensor.Zeros(2, 2), scaleFactor: 2));
    }
}
