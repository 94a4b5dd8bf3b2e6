using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class NormalizationModuleTests
{
    /// <summary>Channel c of every sample holds values around 2c − 1 with spread c + 1, so each channel's statistics differ.</summary>
    private static Tensor Batch(int seed, int n = 6, int channels = 3)
    {
        var x = Tensor.Randn(new Shape(n, channels, 4, 5), DType.Float64, new Generator((ulong)seed));
        var scale = Tensor.FromArray(Enumerable.Range(0, channels).Select(c => c + 1.0).ToArray(), 1, channels, 1, 1);
        var shift = Tensor.FromArray(Enumerable.Range(0, channels).Select(c => 2.0 * c - 1).ToArray(), 1, channels, 1, 1);
        return x * scale + shift;
    }

    [Fact]
    public void BatchNorm2d_state_dict_matches_pytorchs_names_and_starting_values()
    {
        var bn = new BatchNorm2d(3);
        var dict = bn.StateDict();
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], dict.Keys);
        Assert.Equal([1f, 1, 1], dict["weight"].ToArray<float>());
        Assert.Equal([0f, 0, 0], dict["bias"].ToArray<float>());
        Assert.Equal([0f, 0, 0], dict["running_mean"].ToArray<float>());
        Assert.Equal([1f, 1, 1], dict["running_var"].ToArray<float>());
        Assert.Equal(DType.Int64, dict["num_batches_tracked"].DType);
        Assert.Equal(0, dict["num_batches_tracked"].Rank);
        Assert.Equal(["weight", "bias"], bn.NamedParameters().Select(p => p.Name));
        Assert.Equal(["running_mean", "running_var", "num_batches_tracked"], bn.NamedBuffers().Select(b => b.Name));
        Assert.Equal("BatchNorm2d(3, eps: 1E-05, momentum: 0.1, affine: True, trackRunningStats: True)", bn.ToString());
    }

    [Fact]
    public void Training_normalises_with_the_batch_and_moves_the_running_statistics_by_momentum()
    {
        var bn = new BatchNorm2d(3, momentum: 0.25, dtype: DType.Float64);
        var x = Batch(1);
        var y = bn.Forward(x);

        var batchMean = x.Mean([0, 2, 3]).ToArray<double>();
        var unbiased = x.Var([0, 2, 3], unbiased: true).ToArray<double>();
        var runningMean = bn.RunningMean!.ToArray<double>();
        var runningVar = bn.RunningVar!.ToArray<double>();
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(0.75 * 0 + 0.25 * batchMean[c], runningMean[c], 12);
            Assert.Equal(0.75 * 1 + 0.25 * unbiased[c], runningVar[c], 12);
        }
        Assert.Equal(1L, bn.NumBatchesTracked!.Item<long>());
        // The output is the batch standardised: per-channel mean 0 and biased variance 1 (up to eps).
        Assert.True(y.Mean([0, 2, 3]).Abs().Max().Item() < 1e-12);
        Assert.True((y.Var([0, 2, 3], unbiased: false) - 1).Abs().Max().Item() < 1e-4);

        bn.Forward(Batch(2));
        Assert.Equal(2L, bn.NumBatchesTracked!.Item<long>());
    }

    [Fact]
    public void Evaluation_uses_the_running_statistics_and_training_does_not()
    {
        var bn = new BatchNorm2d(3, dtype: DType.Float64);
        for (int step = 0; step < 5; step++) bn.Forward(Batch(10 + step));
        using (Autograd.NoGrad())
        {
            bn.Weight!.CopyFrom(Tensor.FromArray(new double[] { 2, 0.5, -1 }));
            bn.Bias!.CopyFrom(Tensor.FromArray(new double[] { 0.1, -0.2, 0.3 }));
        }
        var mean = bn.RunningMean!.ToArray<double>();
        var variance = bn.RunningVar!.ToArray<double>();
        var weight = bn.Weight!.ToArray<double>();
        var bias = bn.Bias!.ToArray<double>();
        var x = Batch(99, n: 2);
        var values = x.ToArray<double>();
        var expected = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int c = i / 20 % 3;
            expected[i] = (values[i] - mean[c]) / Math.Sqrt(variance[c] + 1e-5) * weight[c] + bias[c];
        }

        bn.Eval();
        var evaluated = bn.Forward(x).ToArray<double>();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], evaluated[i], 10);
        Assert.Equal(mean, bn.RunningMean!.ToArray<double>());
        Assert.Equal(5L, bn.NumBatchesTracked!.Item<long>());

        bn.Train();
        var trained = bn.Forward(x).ToArray<double>();
        Assert.True(expected.Zip(trained).Max(p => Math.Abs(p.First - p.Second)) > 0.1, "training mode must use the batch's statistics");
        Assert.Equal(6L, bn.NumBatchesTracked!.Item<long>());
    }

    [Fact]
    public void Momentum_null_keeps_the_cumulative_average_of_the_batch_statistics()
    {
        var bn = new BatchNorm2d(3, momentum: null, dtype: DType.Float64);
        var first = Batch(1);
        var second = Batch(2);
        bn.Forward(first);
        bn.Forward(second);
        var average = ((first.Mean([0, 2, 3]) + second.Mean([0, 2, 3])) / 2).ToArray<double>();
        var running = bn.RunningMean!.ToArray<double>();
        for (int c = 0; c < 3; c++) Assert.Equal(average[c], running[c], 12);
        Assert.Contains("momentum: None", bn.ToString());
    }

    [Fact]
    public void Without_running_statistics_evaluation_normalises_with_the_batch()
    {
        var bn = new BatchNorm2d(3, affine: false, trackRunningStats: false, dtype: DType.Float64);
        Assert.Empty(bn.StateDict());
        Assert.Null(bn.RunningMean);
        var x = Batch(3);
        var trained = bn.Forward(x).ToArray<double>();
        bn.Eval();
        Assert.Equal(trained, bn.Forward(x).ToArray<double>());
    }

    [Fact]
    public void BatchNorm1d_takes_features_or_sequences_and_both_check_their_input()
    {
        var bn = new BatchNorm1d(4);
        Assert.Equal([8, 4], bn.Forward(Tensor.Randn(8, 4)).Shape.ToArray());
        Assert.Equal([8, 4, 5], bn.Forward(Tensor.Randn(8, 4, 5)).Shape.ToArray());
        Assert.Equal(2L, bn.NumBatchesTracked!.Item<long>());
        Assert.Contains("[8, 4, 5, 5]", Assert.Throws<ShapeMismatchException>(() => bn.Forward(Tensor.Randn(8, 4, 5, 5))).Message);
        Assert.Contains("expected 4 channels", Assert.Throws<ShapeMismatchException>(() => bn.Forward(Tensor.Randn(8, 3))).Message);
        Assert.Throws<ShapeMismatchException>(() => new BatchNorm2d(4).Forward(Tensor.Randn(8, 4, 5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchNorm2d(4, momentum: 1.5));
    }

    [Fact]
    public void A_state_dict_round_trip_carries_the_running_statistics_and_batch_count()
    {
        var source = new BatchNorm2d(3, dtype: DType.Float64);
        for (int step = 0; step < 3; step++) source.Forward(Batch(20 + step));
        var target = new BatchNorm2d(3, dtype: DType.Float64);
        target.LoadStateDict(source.StateDict());
        Assert.Equal(source.RunningVar!.ToArray<double>(), target.RunningVar!.ToArray<double>());
        Assert.Equal(3L, target.NumBatchesTracked!.Item<long>());
        source.Eval();
        target.Eval();
        var x = Batch(30);
        Assert.Equal(source.Forward(x).ToArray<double>(), target.Forward(x).ToArray<double>());
    }

    [Fact]
    public void LayerNorm_and_GroupNorm_have_pytorchs_parameters_and_standardise_each_sample()
    {
        var layerNorm = new LayerNorm([4, 5], dtype: DType.Float64);
        Assert.Equal(["weight", "bias"], layerNorm.StateDict().Keys);
        Assert.Equal([4, 5], layerNorm.Weight!.Shape.ToArray());
        var x = Batch(4);
        var y = layerNorm.Forward(x);
        Assert.True(y.Mean([2, 3]).Abs().Max().Item() < 1e-12);
        layerNorm.Eval();
        Assert.Equal(y.ToArray<double>(), layerNorm.Forward(x).ToArray<double>());
        Assert.Empty(new LayerNorm(8, elementwiseAffine: false).StateDict());
        Assert.Equal(["weight"], new LayerNorm(8, bias: false).StateDict().Keys);

        var groupNorm = new GroupNorm(3, 6, dtype: DType.Float64);
        Assert.Equal([6], groupNorm.Bias!.Shape.ToArray());
        var maps = Batch(5, channels: 6);
        var grouped = groupNorm.Forward(maps).Reshape(6, 3, 40);
        Assert.True(grouped.Mean([2]).Abs().Max().Item() < 1e-12);
        Assert.True((grouped.Var([2], unbiased: false) - 1).Abs().Max().Item() < 1e-4);
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupNorm(4, 6));
        Assert.Throws<ShapeMismatchException>(() => groupNorm.Forward(Batch(5, channels: 3)));
    }
}
