using Backprop.Data;

namespace Backprop.Tests.Data;

public class SyntheticDataTests
{
    public static TheoryData<string, int> Sets => new()
    {
        { "xor", 2 }, { "moons", 2 }, { "spirals", 3 }, { "circles", 2 },
    };

    private static TensorDataset Make(string name, int count, ulong seed, double? noise = null) => name switch
    {
        "xor" => SyntheticData.Xor(count, noise ?? 0.1, seed),
        "moons" => SyntheticData.TwoMoons(count, noise ?? 0.1, seed),
        "spirals" => SyntheticData.Spirals(count, arms: 3, noise ?? 0.05, seed),
        _ => SyntheticData.Circles(count, noise ?? 0.05, factor: 0.5, seed),
    };

    [Theory]
    [MemberData(nameof(Sets))]
    public void Shapes_dtypes_and_balanced_classes(string name, int classes)
    {
        var data = Make(name, 301, seed: 1);
        var (x, y) = (data.Tensors[0], data.Tensors[1]);

        Assert.Equal(new Shape(301, 2), x.Shape);
        Assert.Equal(DType.Float32, x.DType);
        Assert.Equal(DType.Int64, y.DType);
        var counts = y.ToArray<long>().GroupBy(l => l).OrderBy(g => g.Key).Select(g => g.Count()).ToArray();
        Assert.Equal(classes, counts.Length);
        Assert.True(counts.Max() - counts.Min() <= 1, $"class sizes {string.Join(", ", counts)}");
    }

    [Theory]
    [MemberData(nameof(Sets))]
    public void The_same_seed_gives_the_same_data_and_another_seed_other_data(string name, int classes)
    {
        _ = classes;
        var a = Make(name, 64, seed: 7);
        var b = Make(name, 64, seed: 7);
        var c = Make(name, 64, seed: 8);

        Assert.Equal(a.Tensors[0].ToArray<float>(), b.Tensors[0].ToArray<float>());
        Assert.Equal(a.Tensors[1].ToArray<long>(), b.Tensors[1].ToArray<long>());
        Assert.NotEqual(a.Tensors[0].ToArray<float>(), c.Tensors[0].ToArray<float>());
    }

    [Fact]
    public void Xor_table_is_the_truth_table()
    {
        var xor = SyntheticData.Xor();

        Assert.Equal(new float[] { 0, 0, 0, 1, 1, 0, 1, 1 }, xor.Tensors[0].ToArray<float>());
        Assert.Equal(new long[] { 0, 1, 1, 0 }, xor.Tensors[1].ToArray<long>());
    }

    [Fact]
    public void Noisy_xor_points_sit_near_a_corner_of_their_class()
    {
        var data = SyntheticData.Xor(200, noise: 0.05, seed: 3);
        var x = data.Tensors[0].ToArray<float>();
        var y = data.Tensors[1].ToArray<long>();

        for (int i = 0; i < y.Length; i++)
        {
            long nearestCornerClass = (Math.Round(x[2 * i]) != Math.Round(x[2 * i + 1])) ? 1 : 0;
            Assert.Equal(y[i], nearestCornerClass);
        }
    }

    [Fact]
    public void Without_noise_circles_and_moons_lie_on_their_curves()
    {
        var circles = SyntheticData.Circles(40, noise: 0, factor: 0.3);
        var moons = SyntheticData.TwoMoons(40, noise: 0);

        var cx = circles.Tensors[0].ToArray<float>();
        var cy = circles.Tensors[1].ToArray<long>();
        for (int i = 0; i < cy.Length; i++)
            Assert.Equal(cy[i] == 0 ? 1.0 : 0.3, Math.Sqrt(cx[2 * i] * cx[2 * i] + cx[2 * i + 1] * cx[2 * i + 1]), 5);

        var mx = moons.Tensors[0].ToArray<float>();
        var my = moons.Tensors[1].ToArray<long>();
        for (int i = 0; i < my.Length; i++)
        {
            // The upper moon is the unit half circle; the lower one is it mirrored and shifted by (1, 0.5).
            double u = my[i] == 0 ? mx[2 * i] : 1 - mx[2 * i];
            double v = my[i] == 0 ? mx[2 * i + 1] : 0.5 - mx[2 * i + 1];
            Assert.Equal(1.0, Math.Sqrt(u * u + v * v), 5);
            Assert.True(v >= -1e-6);
        }
    }

    [Fact]
    public void Spiral_arms_grow_from_the_centre_to_radius_one()
    {
        var data = SyntheticData.Spirals(90, arms: 3, noise: 0);
        var x = data.Tensors[0].ToArray<float>();
        var radii = Enumerable.Range(0, 90).Select(i => Math.Sqrt(x[2 * i] * x[2 * i] + x[2 * i + 1] * x[2 * i + 1])).ToArray();

        Assert.All(radii, r => Assert.InRange(r, 0.0, 1.0 + 1e-6));
        Assert.Equal(1.0, radii.Max(), 5);
        Assert.True(radii.Min() < 0.05);
    }
}
