using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Nn;

public class ResidualCnnTests
{
    [Fact]
    public void Residual_adds_the_input_to_the_body_and_passes_the_gradient_through_the_skip()
    {
        var body = new Conv2d(2, 2, 3, padding: 1);
        using (Autograd.NoGrad())
        {
            body.Weight.ZeroInPlace();
            body.Bias!.FillInPlace(0.5);
        }
        var block = new Residual(body);
        var x = Tensor.Randn(new Shape(1, 2, 4, 4), generator: new Generator(1)).SetRequiresGrad();
        var upstream = Tensor.Randn(new Shape(1, 2, 4, 4), generator: new Generator(2));

        var y = block.Forward(x);
        (y * upstream).Sum().Backward();

        Assert.Equal((x.Detach() + 0.5f).ToArray<float>(), y.ToArray<float>());
        // The body's weight is zero, so only the identity path carries gradient to x.
        Assert.Equal(upstream.ToArray<float>(), x.Grad!.ToArray<float>());
        // ∂L/∂b = Σ upstream over each channel's positions.
        Assert.True(body.Bias!.Grad!.AllClose(upstream.Sum([0, 2, 3]), 1e-5, 1e-5));
    }

    [Fact]
    public void A_projection_shortcut_matches_the_bodys_shape_and_a_mismatch_names_both_shapes()
    {
        var block = new Residual(
            new Sequential(new Conv2d(4, 8, 3, stride: 2, padding: 1, bias: false), new BatchNorm2d(8), new Relu(),
                new Conv2d(8, 8, 3, padding: 1, bias: false), new BatchNorm2d(8)),
            shortcut: new Sequential(new Conv2d(4, 8, 1, stride: 2, bias: false), new BatchNorm2d(8)));
        Assert.Equal([2, 8, 4, 5], block.Forward(Tensor.Randn(2, 4, 8, 9)).Shape.ToArray());
        Assert.Equal(
        [
            "body.0.weight", "body.1.weight", "body.1.bias", "body.1.running_mean", "body.1.running_var", "body.1.num_batches_tracked",
            "body.3.weight", "body.4.weight", "body.4.bias", "body.4.running_mean", "body.4.running_var", "body.4.num_batches_tracked",
            "shortcut.0.weight", "shortcut.1.weight", "shortcut.1.bias", "shortcut.1.running_mean", "shortcut.1.running_var",
            "shortcut.1.num_batches_tracked",
        ], block.StateDict().Keys);

        var unprojected = new Residual(new Conv2d(4, 8, 3, padding: 1));
        var e = Assert.Throws<ShapeMismatchException>(() => unprojected.Forward(Tensor.Randn(1, 4, 5, 5)));
        Assert.Contains("[1, 8, 5, 5]", e.Message);
        Assert.Contains("[1, 4, 5, 5]", e.Message);
    }

    [Fact]
    public void A_cnn_state_dict_has_pytorchs_keys_in_pytorchs_order()
    {
        var model = new Sequential(new Conv2d(1, 4, 3), new BatchNorm2d(4), new Relu(), new MaxPool2d(2), new Flatten(), new Linear(4 * 3 * 3, 2));
        Assert.Equal(
            ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked", "5.weight", "5.bias"],
            model.StateDict().Keys);
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "5.weight", "5.bias"], model.NamedParameters().Select(p => p.Name));
        Assert.Equal([3, 2], model.Forward(Tensor.Randn(3, 1, 8, 8)).Shape.ToArray());
    }

    /// <summary>
    /// 8×8 images of one line on noise: horizontal (class 0), vertical (1), diagonal (2) or anti-diagonal (3), at a random
    /// offset. No single pixel tells the classes apart; oriented edge filters do.
    /// </summary>
    private static (Tensor Images, Tensor Labels) Lines(int count, Generator generator)
    {
        var images = Tensor.Normal(new Shape(count, 1, 8, 8), 0, 0.3, generator: generator).ToArray<float>();
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            int label = (int)(generator.NextUInt64() % 4), offset = (int)(generator.NextUInt64() % 8) - (label >= 2 ? 4 : 0);
            labels[i] = label;
            for (int t = 0; t < 8; t++)
            {
                var (row, column) = label switch
                {
                    0 => (offset, t),
                    1 => (t, offset),
                    2 => (t, t + offset),
                    _ => (t, 7 - t + offset),
                };
                if ((uint)column < 8) images[i * 64 + row * 8 + column] += 1;
            }
        }
        return (Tensor.FromArray(images, count, 1, 8, 8), Tensor.FromArray(labels));
    }

    [Fact]
    public void A_small_residual_cnn_with_batch_norm_trains_and_evaluates_with_the_running_statistics()
    {
        var g = new Generator(0);
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(8), new Relu(),
            new Residual(new Sequential(
                new Conv2d(8, 8, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(8), new Relu(),
                new Conv2d(8, 8, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(8))),
            new Relu(),
            new Residual(
                new Sequential(
                    new Conv2d(8, 16, 3, stride: 2, padding: 1, bias: false, generator: g), new BatchNorm2d(16), new Relu(),
                    new Conv2d(16, 16, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(16)),
                shortcut: new Sequential(new Conv2d(8, 16, 1, stride: 2, bias: false, generator: g), new BatchNorm2d(16))),
            new Relu(),
            new AdaptiveAvgPool2d(1), new Flatten(), new Linear(16, 4, generator: g));
        var optimizer = new Adam(model.Parameters(), learningRate: 0.01);
        var data = new Generator(1);
        const int Steps = 80;
        var losses = new List<double>();
        for (int step = 0; step < Steps; step++)
        {
            var (x, y) = Lines(32, data);
            optimizer.ZeroGrad();
            var loss = Functional.CrossEntropy(model.Forward(x), y);
            loss.Backward();
            optimizer.Step();
            losses.Add(loss.Item());
        }
        double start = losses.Take(5).Average(), end = losses.TakeLast(10).Average();
        Assert.True(start > 1.2, $"starts near ln 4: {start}");
        Assert.True(end < 0.3 * start, $"loss {start:F3} → {end:F3}");

        var firstNorm = (BatchNorm2d)model[1];
        Assert.Equal(Steps, firstNorm.NumBatchesTracked!.Item<long>());
        Assert.True(firstNorm.RunningMean!.Abs().Max().Item() > 0.01, "the running mean moved from its starting zeros");

        var (test, labels) = Lines(256, new Generator(2));
        model.Eval();
        Tensor logits;
        using (Autograd.NoGrad()) logits = model.Forward(test);
        var predicted = logits.ArgMax(1).ToArray<long>();
        var expected = labels.ToArray<long>();
        double accuracy = predicted.Zip(expected).Count(p => p.First == p.Second) / 256.0;
        Assert.True(accuracy > 0.9, $"eval accuracy {accuracy}");
        // With the running statistics each sample's output is its own, whatever else is in the batch; with the batch's
        // statistics (training mode) it is not.
        using (Autograd.NoGrad())
        {
            var alone = model.Forward(test.Narrow(0, 0, 2));
            Assert.True(alone.AllClose(logits.Narrow(0, 0, 2), 1e-4, 1e-4));
            model.Train();
            var trainMode = model.Forward(test.Narrow(0, 0, 2));
            Assert.False(trainMode.AllClose(logits.Narrow(0, 0, 2), 1e-2, 1e-2));
        }
        Assert.Equal(Steps + 1, firstNorm.NumBatchesTracked!.Item<long>());
    }
}
