using Backprop.Data;
using Backprop.IO;

namespace Backprop.Tests.Data;

public class StandardizerTests
{
    [Fact]
    public void Fit_computes_per_feature_mean_and_population_std_and_leaves_constant_features_at_zero()
    {
        var train = Tensor.FromArray(new float[,] { { 1, 10 }, { 3, 10 }, { 5, 10 } });

        var scaler = Standardizer.Fit(train);
        var z = scaler.Transform(train).ToArray<float>();

        Assert.Equal(new float[] { 3, 10 }, scaler.Mean.ToArray<float>());
        Assert.Equal(Math.Sqrt(8.0 / 3), scaler.Std.ToArray<float>()[0], 5);
        Assert.Equal(1f, scaler.Std.ToArray<float>()[1]);
        double s = Math.Sqrt(1.5);
        Assert.Equal([-s, 0, 0, 0, s, 0], z.Select(v => (double)v), new ToleranceComparer(1e-5));
    }

    [Fact]
    public void Test_data_is_scaled_with_the_training_statistics_and_the_inverse_restores_it()
    {
        var scaler = Standardizer.Fit(Tensor.FromArray(new float[,] { { 0, 2 }, { 2, 6 } }));
        var test = Tensor.FromArray(new float[,] { { 4, 4 } });

        var z = scaler.Transform(test);

        Assert.Equal(new float[] { 3, 0 }, z.ToArray<float>());
        Assert.Equal(test.ToArray<float>(), scaler.InverseTransform(z).ToArray<float>());
    }

    [Fact]
    public void Shape_mismatch_names_the_expected_sample_shape()
    {
        var scaler = Standardizer.Fit(Tensor.Zeros(4, 3));

        var e = Assert.Throws<ShapeMismatchException>(() => scaler.Transform(Tensor.Zeros(4, 2)));

        Assert.Contains("expected samples of shape [3]", e.Message);
    }

    [Fact]
    public void Statistics_round_trip_through_a_checkpoint()
    {
        var fitted = Standardizer.Fit(Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 8 } }));
        var checkpoint = new Checkpoint();
        fitted.SaveState(checkpoint, "scaler.");

        var restored = new Standardizer(Tensor.Zeros(2), Tensor.Ones(2));
        restored.LoadState(checkpoint, "scaler.");

        Assert.Equal(fitted.Mean.ToArray<float>(), restored.Mean.ToArray<float>());
        Assert.Equal(fitted.Std.ToArray<float>(), restored.Std.ToArray<float>());
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= tolerance;

        public int GetHashCode(double value) => 0;
    }
}
