namespace Backprop.Tests.Tensors;

/// <summary>Norm(p, dims), Dist and CDist against the float64 definitions computed here element by element.</summary>
public class NormTests
{
    private static double Reference(double[] values, double p)
    {
        var a = values.Select(Math.Abs).ToArray();
        if (p == 0) return a.Count(v => v != 0);
        if (double.IsPositiveInfinity(p)) return a.Length == 0 ? double.NaN : a.Max();
        if (double.IsNegativeInfinity(p)) return a.Min();
        double sum = 0;
        foreach (var v in a) sum += Math.Pow(v, p);
        return Math.Pow(sum, 1 / p);
    }

    private static void AssertClose(double expected, double actual, double tolerance, string what) =>
        Assert.True(expected == actual || Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)),
            $"{what}: got {actual}, expected {expected}");

    public static TheoryData<double> Orders() => new() { 0, 1, 2, 3, 0.5, 1.5, -1, -2.5, double.PositiveInfinity, double.NegativeInfinity };

    [Theory]
    [MemberData(nameof(Orders))]
    public void Norm_over_dims_matches_the_definition(double p)
    {
        var values = new[] { 1.5, -2, 0.25, 3, -0.5, 4, 1, -1, 2, 0.75, -3, 2.5 };
        var x = Tensor.FromArray(values, 3, 4);
        AssertClose(Reference(values, p), x.Norm(p).Item(), 1e-14, $"p={p} all");
        var rows = x.Norm(p, [1]).ToArray<double>();
        for (int r = 0; r < 3; r++) AssertClose(Reference(values[(4 * r)..(4 * r + 4)], p), rows[r], 1e-14, $"p={p} row {r}");
        // A transposed view reduced over dim 0 sees the same rows.
        var viaTranspose = x.T.Norm(p, [0], keepDim: true);
        Assert.Equal(new Shape(1, 3), viaTranspose.Shape);
        var transposed = viaTranspose.ToArray<double>();
        for (int r = 0; r < 3; r++) AssertClose(rows[r], transposed[r], 1e-14, $"p={p} transposed row {r}");
        var single = Tensor.FromArray(values.Select(v => (float)v).ToArray(), 3, 4).Norm(p, [-1]).ToArray<float>();
        for (int r = 0; r < 3; r++) AssertClose(rows[r], single[r], 1e-6, $"p={p} float32 row {r}");
    }

    [Fact]
    public void Norm_of_zeros_empty_and_non_finite_values()
    {
        var zeros = Tensor.Zeros(new Shape(3), DType.Float64);
        Assert.Equal(0.0, zeros.Norm(2).Item());
        Assert.Equal(0.0, zeros.Norm(0.5).Item());
        Assert.Equal(0.0, Tensor.FromArray(new[] { 0.0, 2 }).Norm(-1).Item());
        Assert.Equal(0.0, Tensor.Zeros(new Shape(0), DType.Float64).Norm(3).Item());
        Assert.Equal(new Shape(2), Tensor.Zeros(new Shape(2, 0), DType.Float64).Norm(2, [1]).Shape);
        Assert.Equal(double.PositiveInfinity, Tensor.FromArray(new[] { 1.0, double.NegativeInfinity }).Norm(2).Item());
        Assert.True(double.IsNaN(Tensor.FromArray(new[] { 1.0, double.NaN }).Norm(1).Item()));
        Assert.Throws<ArgumentException>(() => Tensor.FromArray(new long[] { 1, 2 }).Norm(2));
    }

    [Fact]
    public void Norm_gradients_follow_torch_at_zeros_and_ties()
    {
        var x = Tensor.FromArray(new[] { 0.0, 0, 0 });
        x.RequiresGrad = true;
        x.Norm(3).Backward();
        Assert.Equal([0.0, 0, 0], x.Grad!.ToArray<double>());

        var tied = Tensor.FromArray(new[] { -3.0, 1, 3 });
        tied.RequiresGrad = true;
        tied.Norm(double.PositiveInfinity).Backward();
        Assert.Equal([-0.5, 0, 0.5], tied.Grad!.ToArray<double>());

        // p < 1: a zero element gets 0, the others sgn·|x|^(p−1)·‖x‖^(1−p).
        var sparse = Tensor.FromArray(new[] { 0.0, 4, -1 });
        sparse.RequiresGrad = true;
        sparse.Norm(0.5).Backward();
        double norm = Math.Pow(2 + 1, 2);
        var grad = sparse.Grad!.ToArray<double>();
        AssertClose(0, grad[0], 1e-15, "zero element");
        AssertClose(Math.Pow(4, -0.5) * Math.Sqrt(norm), grad[1], 1e-14, "positive element");
        AssertClose(-Math.Sqrt(norm), grad[2], 1e-14, "negative element");
    }

    [Fact]
    public void Dist_broadcasts_and_CDist_gives_every_pairwise_distance()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = Tensor.FromArray(new[] { 1.0, 0 });
        AssertClose(Math.Sqrt(4 + 4 + 16), Tensor.Dist(a, b).Item(), 1e-15, "dist p=2");
        AssertClose(2 + 2 + 4, a.Dist(b, 1).Item(), 1e-15, "dist p=1");

        var x1 = Tensor.FromArray(new double[,,] { { { 0, 0 }, { 1, 1 }, { 3, -1 } }, { { 2, 2 }, { 0, 1 }, { 1, 0 } } });
        var x2 = Tensor.FromArray(new double[,] { { 0, 0 }, { 1, -2 } });
        foreach (var p in new[] { 0.0, 1, 2, 3, double.PositiveInfinity })
        {
            var d = Tensor.CDist(x1, x2.T.Contiguous().T, p);
            Assert.Equal(new Shape(2, 3, 2), d.Shape);
            var got = d.ToArray<double>();
            var rows1 = x1.ToArray<double>();
            var rows2 = x2.ToArray<double>();
            for (int batch = 0; batch < 2; batch++)
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 2; j++)
                    {
                        var diff = new[] { rows1[batch * 6 + i * 2] - rows2[j * 2], rows1[batch * 6 + i * 2 + 1] - rows2[j * 2 + 1] };
                        AssertClose(Reference(diff, p), got[batch * 6 + i * 2 + j], 1e-14, $"cdist p={p} [{batch},{i},{j}]");
                    }
        }
        Assert.Equal(new Shape(0, 2), Tensor.CDist(Tensor.Zeros(new Shape(0, 2), DType.Float64), x2).Shape);
        Assert.Throws<ShapeMismatchException>(() => Tensor.CDist(x1, Tensor.Ones(2, 3)));
        Assert.Throws<ArgumentException>(() => Tensor.CDist(x2, x2, -1));
    }

    [Fact]
    public void CDist_p2_gradient_is_zero_at_zero_distance()
    {
        var x = Tensor.FromArray(new double[,] { { 1, 2 }, { 0, 0 } });
        x.RequiresGrad = true;
        Tensor.CDist(x, Tensor.FromArray(new double[,] { { 1, 2 } })).Sum().Backward();
        Assert.Equal([0.0, 0, -1 / Math.Sqrt(5), -2 / Math.Sqrt(5)], x.Grad!.ToArray<double>());
    }
}
