using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>Per-example gradients from one pass, against a backward pass per example.</summary>
public class PerSampleGradientsTests
{
    /// <summary>∂(loss of example n alone)/∂θ for every n, by one backward pass on a batch of one per example.</summary>
    private static Dictionary<string, Tensor> Loop(Module<Tensor, Tensor> model, Tensor input, Func<Tensor, int, Tensor> loss)
    {
        var named = model.NamedParameters().ToList();
        var perExample = new List<Tensor?[]>();
        for (int n = 0; n < input.Size(0); n++)
        {
            var value = loss(model.Forward(input.Narrow(0, n, 1)), n);
            perExample.Add(Autograd.Grad([value], named.Select(p => (Tensor)p.Parameter).ToArray(), allowUnused: true));
        }
        var result = new Dictionary<string, Tensor>();
        for (int k = 0; k < named.Count; k++)
            result[named[k].Name] = Tensor.Stack(perExample.Select(g => g[k] ?? Tensor.ZerosLike(named[k].Parameter)));
        return result;
    }

    private static void AssertSame(Dictionary<string, Tensor> expected, IReadOnlyDictionary<string, Tensor> actual, double tolerance)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, want) in expected)
        {
            var got = actual[name];
            Assert.Equal(want.Shape, got.Shape);
            var w = want.ToArray<double>();
            var a = got.ToArray<double>();
            for (int i = 0; i < w.Length; i++)
                Assert.True(Math.Abs(w[i] - a[i]) <= tolerance * Math.Max(1, Math.Abs(w[i])), $"{name}[{i}]: {a[i]:R}, by the loop {w[i]:R}");
        }
    }

    [Fact]
    public void A_convolutional_classifier_with_cross_entropy_matches_a_loop_over_examples()
    {
        var g = new Generator(5);
        var model = new Sequential(
            new Conv2d(2, 4, 3, stride: 2, padding: 1, dtype: DType.Float64, generator: g),
            new Relu(),
            new Conv2d(4, 4, (2, 3), dilation: (1, 2), groups: 2, dtype: DType.Float64, generator: g),
            new Flatten(),
            new Linear(4 * 2 * 2, 3, dtype: DType.Float64, generator: g));
        var input = Tensor.Randn([5, 2, 6, 11], DType.Float64, generator: g);
        var labels = Tensor.FromArray(new long[] { 0, 2, 1, 1, 0 });

        var perSample = PerSampleGradients.Compute(model, input, output => Functional.CrossEntropy(output, labels));
        var loop = Loop(model, input, (output, n) => Functional.CrossEntropy(output, labels.Narrow(0, n, 1)));
        AssertSame(loop, perSample, 1e-12);
        Assert.All(model.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void A_linear_layer_over_a_sequence_with_a_summed_loss_matches_a_loop_over_examples()
    {
        var g = new Generator(8);
        var model = new Sequential(new Linear(3, 5, dtype: DType.Float64, generator: g), new Tanh(), new Linear(5, 2, dtype: DType.Float64, generator: g));
        var input = Tensor.Randn([4, 6, 3], DType.Float64, generator: g);
        var target = Tensor.Randn([4, 6, 2], DType.Float64, generator: g);

        var perSample = PerSampleGradients.Compute(model, input, output => Functional.MseLoss(output, target, Reduction.Sum), Reduction.Sum);
        var loop = Loop(model, input, (output, n) => Functional.MseLoss(output, target.Narrow(0, n, 1), Reduction.Sum));
        AssertSame(loop, perSample, 1e-12);

        // Their sum is the batch gradient.
        var batchGrads = Autograd.Grad([Functional.MseLoss(model.Forward(input), target, Reduction.Sum)], model.Parameters().ToArray<Tensor>());
        var names = model.NamedParameters().Select(p => p.Name).ToList();
        for (int k = 0; k < names.Count; k++)
        {
            var summed = perSample[names[k]].Sum(0).ToArray<double>();
            var batch = batchGrads[k]!.ToArray<double>();
            for (int i = 0; i < batch.Length; i++)
                Assert.True(Math.Abs(summed[i] - batch[i]) <= 1e-12 * Math.Max(1, Math.Abs(batch[i])), $"{names[k]}[{i}]");
        }
    }

    [Fact]
    public void Batch_norm_and_unsupported_layers_with_parameters_are_errors_naming_the_layer()
    {
        var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Linear(4, 1));
        var error = Assert.Throws<NotSupportedException>(() =>
            PerSampleGradients.Compute(model, Tensor.Randn(8, 3), output => output.Sum()));
        Assert.Contains("'1' (BatchNorm1d)", error.Message);
        Assert.Contains("mixes the examples", error.Message);
    }
}
