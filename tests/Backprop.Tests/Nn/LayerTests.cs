using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class LayerTests
{
    [Fact]
    public void Linear_default_init_is_uniform_within_one_over_root_fan_in()
    {
        var linear = new Linear(100, 50, generator: new Generator(3));
        double bound = 1 / Math.Sqrt(100);
        var w = linear.Weight.ToArray<float>();
        var b = linear.Bias!.ToArray<float>();
        Assert.All(w, v => Assert.InRange(v, -bound, bound));
        Assert.All(b, v => Assert.InRange(v, -bound, bound));
        // 5000 uniform draws fill the range and have variance bound²/3.
        Assert.True(w.Max() > 0.95 * bound && w.Min() < -0.95 * bound);
        double variance = w.Select(v => (double)v * v).Average();
        Assert.InRange(variance, 0.9 * bound * bound / 3, 1.1 * bound * bound / 3);
    }

    [Fact]
    public void Linear_draws_from_the_generator_it_is_given()
    {
        // Seeding the shared default here would race with tests running in parallel: see DefaultGeneratorTests.
        Assert.Equal(new Linear(4, 3, generator: new Generator(9)).Weight.ToArray<float>(),
            new Linear(4, 3, generator: new Generator(9)).Weight.ToArray<float>());
    }

    [Fact]
    public void Linear_computes_x_times_weight_transposed_plus_bias()
    {
        var linear = new Linear(2, 2, dtype: DType.Float64);
        using (Autograd.NoGrad())
        {
            linear.Weight.CopyFrom(Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0 }, 2, 2));
            linear.Bias!.CopyFrom(Tensor.FromArray(new[] { 0.5, -1.0 }));
        }
        var y = linear.Forward(Tensor.FromArray(new[] { 1.0, 1.0, 2.0, -1.0 }, 2, 2));
        Assert.Equal([3.5, 6.0, 0.5, 1.0], y.ToArray<double>());
        Assert.Equal(2, linear.InFeatures);
        Assert.Null(new Linear(2, 3, bias: false).Bias);
    }

    [Fact]
    public void Dropout_zeroes_a_share_p_in_training_and_scales_the_rest()
    {
        var dropout = new Dropout(0.25, new Generator(11));
        var x = Tensor.Ones([4000], requiresGrad: true);
        var y = dropout.Forward(x);
        var values = y.ToArray<float>();
        int zeros = values.Count(v => v == 0);
        Assert.InRange(zeros, 900, 1100);
        Assert.All(values.Where(v => v != 0), v => Assert.Equal(1 / 0.75f, v));
        y.Sum().Backward();
        Assert.Equal(values, x.Grad!.ToArray<float>());
    }

    [Fact]
    public void Dropout_is_the_identity_in_eval_mode()
    {
        var model = new Sequential(new Dropout(0.9), new Identity());
        var x = Tensor.Randn(3, 5);
        model.Eval();
        Assert.Same(x, model.Forward(x));
        model.Train();
        Assert.NotEqual(x.ToArray<float>(), model.Forward(x).ToArray<float>());
    }

    [Fact]
    public void Dropout_edges()
    {
        var x = Tensor.Randn(3, 4);
        Assert.Same(x, Functional.Dropout(x, 0));
        Assert.All(Functional.Dropout(x, 1).ToArray<float>(), v => Assert.Equal(0f, v));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1.5));
    }

    [Fact]
    public void Embedding_looks_up_rows_and_the_padding_row_gets_no_gradient()
    {
        var embedding = new Embedding(5, 3, paddingIndex: 0, dtype: DType.Float64, generator: new Generator(1));
        Assert.All(embedding.Weight.Select(0, 0).ToArray<double>(), v => Assert.Equal(0.0, v));
        var indices = Tensor.FromArray(new long[] { 2, 0, 2, 4, 0, 1 }, 2, 3);
        var y = embedding.Forward(indices);
        Assert.Equal([2, 3, 3], y.Shape.ToArray());
        Assert.Equal(embedding.Weight.Select(0, 4).ToArray<double>(), y[1, 0].ToArray<double>());

        y.Backward(Tensor.OnesLike(y));
        var grad = embedding.Weight.Grad!;
        Assert.Equal([0.0, 0.0, 0.0], grad.Select(0, 0).ToArray<double>());
        Assert.Equal([1.0, 1.0, 1.0], grad.Select(0, 1).ToArray<double>());
        Assert.Equal([2.0, 2.0, 2.0], grad.Select(0, 2).ToArray<double>());
        Assert.Equal([0.0, 0.0, 0.0], grad.Select(0, 3).ToArray<double>());
    }

    [Fact]
    public void Embedding_default_init_is_standard_normal()
    {
        var w = new Embedding(200, 50, generator: new Generator(2)).Weight.ToArray<float>();
        double mean = w.Average(v => (double)v);
        double variance = w.Average(v => (v - mean) * (v - mean));
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(variance, 0.95, 1.05);
    }

    [Fact]
    public void Activation_modules_match_the_tensor_functions()
    {
        var x = Tensor.FromArray(new[] { -2.0, -0.5, 0.0, 0.7, 3.0 }, 1, 5);
        (Module<Tensor, Tensor> Module, Tensor Expected)[] cases =
        [
            (new Relu(), x.Relu()), (new Sigmoid(), x.Sigmoid()), (new Tanh(), x.Tanh()),
            (new LeakyRelu(0.2), x.LeakyRelu(0.2)), (new Elu(0.5), x.Elu(0.5)), (new Gelu(), x.Gelu()),
            (new Softplus(2), x.Softplus(2)), (new Silu(), x.Silu()), (new Softmax(1), x.Softmax(1)),
            (new LogSoftmax(-1), x.LogSoftmax(-1)), (new Identity(), x),
        ];
        foreach (var (module, expected) in cases)
            Assert.Equal(expected.ToArray<double>(), module.Forward(x).ToArray<double>());
        Assert.Equal([-0.4, -0.1, 0.0, 0.7, 3.0], new LeakyRelu(0.2).Forward(x).ToArray<double>());
    }

    [Fact]
    public void Flatten_keeps_the_batch_dim_by_default()
    {
        Assert.Equal([2, 12], new Flatten().Forward(Tensor.Zeros(2, 3, 4)).Shape.ToArray());
        Assert.Equal([2, 3, 4], new Flatten(0, 0).Forward(Tensor.Zeros(2, 3, 4)).Shape.ToArray());
        Assert.Equal([24], new Flatten(0).Forward(Tensor.Zeros(2, 3, 4)).Shape.ToArray());
    }
}
