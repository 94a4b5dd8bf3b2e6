using static Backprop.Nn.Functional;

namespace Backprop.Tests.Nn;

public class NormalizationTests
{
    [Fact]
    public void BatchNorm_training_output_has_mean_0_and_variance_1_per_channel()
    {
        var x = Tensor.Normal(new Shape(8, 3, 4, 5), 3, 2, DType.Float64, new Generator(1));
        var y = BatchNorm(x, null, null, training: true, eps: 0);
        var mean = y.Mean([0, 2, 3]).ToArray<double>();
        var variance = y.Var([0, 2, 3], unbiased: false).ToArray<double>();
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(0, mean[c], 12);
            Assert.Equal(1, variance[c], 12);
        }
    }

    [Fact]
    public void BatchNorm_training_updates_the_running_statistics_with_momentum()
    {
        // Channel values 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 5/3.
        var x = Tensor.FromArray(new double[] { 1, 10, 2, 20, 3, 30, 4, 40 }, 4, 2);
        var runningMean = Tensor.FromArray(new double[] { 0, 1 });
        var runningVar = Tensor.FromArray(new double[] { 1, 2 });
        var y = BatchNorm(x, runningMean, runningVar, training: true, momentum: 0.1, eps: 0);
        Assert.Equal(0.9 * 0 + 0.1 * 2.5, runningMean.ToArray<double>()[0], 12);
        Assert.Equal(0.9 * 1 + 0.1 * 25, runningMean.ToArray<double>()[1], 12);
        Assert.Equal(0.9 * 1 + 0.1 * (5.0 / 3), runningVar.ToArray<double>()[0], 12);
        Assert.Equal(0.9 * 2 + 0.1 * (500.0 / 3), runningVar.ToArray<double>()[1], 12);
        // The batch itself is normalised with the biased variance: (1 − 2.5)/√1.25.
        Assert.Equal(-1.5 / Math.Sqrt(1.25), y.ToArray<double>()[0], 12);
        Assert.Equal(2, runningMean.Version);
    }

    [Fact]
    public void BatchNorm_eval_uses_the_running_statistics_and_leaves_them_alone()
    {
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6, 7, 8 }, 2, 2, 2);
        var runningMean = Tensor.FromArray(new double[] { 1, -1 });
        var runningVar = Tensor.FromArray(new double[] { 4, 0.25 });
        var weight = Tensor.FromArray(new double[] { 2, 3 });
        var bias = Tensor.FromArray(new double[] { 0.5, -0.5 });
        var y = BatchNorm(x, runningMean, runningVar, weight, bias, eps: 0).ToArray<double>();
        // Channel 0 of sample 0 holds 1, 2: (v − 1)/2·2 + 0.5. Channel 1 holds 3, 4: (v + 1)/0.5·3 − 0.5.
        Assert.Equal([0.5, 1.5, 23.5, 29.5, 4.5, 5.5, 47.5, 53.5], y);
        Assert.Equal([1.0, -1], runningMean.ToArray<double>());
        Assert.Equal(0, runningMean.Version);
    }

    [Fact]
    public void BatchNorm_training_gradient_sums_to_zero_through_the_batch_mean()
    {
        // Without affine, shifting a channel's inputs by a constant leaves the output unchanged: the gradient has zero mean.
        var x = Tensor.Randn(new Shape(5, 2, 3), DType.Float64, new Generator(2)).SetRequiresGrad();
        var upstream = Tensor.Randn(new Shape(5, 2, 3), DType.Float64, new Generator(3));
        (BatchNorm(x, null, null, training: true) * upstream).Sum().Backward();
        var sums = x.Grad!.Sum([0, 2]).ToArray<double>();
        Assert.Equal(0, sums[0], 12);
        Assert.Equal(0, sums[1], 12);
    }

    [Fact]
    public void BatchNorm_rejects_bad_arguments()
    {
        Assert.Throws<ShapeMismatchException>(() => BatchNorm(Tensor.Zeros(1, 3), null, null, training: true));
        Assert.Throws<ShapeMismatchException>(() => BatchNorm(Tensor.Zeros(4, 3), Tensor.Zeros(2), Tensor.Ones(2), training: true));
        var e = Assert.Throws<ArgumentException>(() => BatchNorm(Tensor.Zeros(4, 3), null, null));
        Assert.Contains("running", e.Message);
    }

    [Fact]
    public void LayerNorm_standardises_each_sample_over_the_trailing_dims()
    {
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 10, 10, 10, 14 }, 2, 4);
        var weight = Tensor.FromArray(new double[] { 1, 2, 1, 1 });
        var bias = Tensor.FromArray(new double[] { 0, 0, 0, 1 });
        var y = LayerNorm(x, [4], weight, bias, eps: 0).ToArray<double>();
        double s0 = Math.Sqrt(1.25), s1 = Math.Sqrt(3);
        double[] expected = [-1.5 / s0, 2 * -0.5 / s0, 0.5 / s0, 1.5 / s0 + 1, -1 / s1, 2 * -1 / s1, -1 / s1, 3 / s1 + 1];
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], y[i], 12);
    }

    [Fact]
    public void LayerNorm_over_two_dims_matches_flattening_them()
    {
        var x = Tensor.Randn(new Shape(3, 2, 5), DType.Float64, new Generator(4));
        var y = LayerNorm(x, [2, 5]);
        var flat = LayerNorm(x.Reshape(3, 10), [10]).Reshape(3, 2, 5);
        Assert.True(y.AllClose(flat, 1e-12, 1e-12));
        Assert.Throws<ShapeMismatchException>(() => LayerNorm(x, [5, 2]));
    }

    [Fact]
    public void LayerNorm_row_kernel_on_contiguous_input_matches_the_general_path_forward_and_backward()
    {
        // A contiguous input takes the one-pass row kernel; the same values stored transposed take the composed ops.
        var values = Tensor.Randn(new Shape(37, 130), generator: new Generator(8)) * 3 + 1;
        var contiguous = values.Detach().SetRequiresGrad();
        var transposed = values.T.Contiguous().T.Detach().SetRequiresGrad();
        Assert.False(transposed.IsContiguous);
        var upstream = Tensor.Randn(new Shape(37, 130), generator: new Generator(9));
        var fast = LayerNorm(contiguous, [130]);
        var general = LayerNorm(transposed, [130]);
        (fast * upstream).Sum().Backward();
        (general * upstream).Sum().Backward();
        var (a, b) = (fast.ToArray<float>(), general.ToArray<float>());
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5, $"output {i}: {a[i]} vs {b[i]}");
        var (ga, gb) = (contiguous.Grad!.ToArray<float>(), transposed.Grad!.ToArray<float>());
        for (int i = 0; i < ga.Length; i++) Assert.True(Math.Abs(ga[i] - gb[i]) <= 1e-5, $"gradient {i}: {ga[i]} vs {gb[i]}");
        // Every row of the kernel's output is standardised.
        var rowMeans = fast.Detach().Mean(1).ToArray<float>();
        Assert.All(rowMeans, m => Assert.True(Math.Abs(m) <= 1e-5, $"row mean {m}"));
    }

    [Fact]
    public void GroupNorm_standardises_each_group_of_channels_per_sample()
    {
        var x = Tensor.Randn(new Shape(2, 6, 3, 2), DType.Float64, new Generator(5));
        var weight = Tensor.Randn(new Shape(6), DType.Float64, new Generator(6));
        var bias = Tensor.Randn(new Shape(6), DType.Float64, new Generator(7));
        var y = GroupNorm(x, 3, weight, bias, eps: 1e-5).ToArray<double>();
        var xv = x.ToArray<double>();
        var wv = weight.ToArray<double>();
        var bv = bias.ToArray<double>();
        const int groupSize = 2 * 3 * 2;
        for (int n = 0; n < 2; n++)
        for (int g = 0; g < 3; g++)
        {
            int start = (n * 3 + g) * groupSize;
            double mean = 0, variance = 0;
            for (int i = 0; i < groupSize; i++) mean += xv[start + i] / groupSize;
            for (int i = 0; i < groupSize; i++) variance += (xv[start + i] - mean) * (xv[start + i] - mean) / groupSize;
            for (int i = 0; i < groupSize; i++)
            {
                int channel = g * 2 + i / 6;
                double expected = (xv[start + i] - mean) / Math.Sqrt(variance + 1e-5) * wv[channel] + bv[channel];
                Assert.Equal(expected, y[start + i], 12);
            }
        }
        Assert.Throws<ShapeMismatchException>(() => GroupNorm(x, 4));
    }
}
