using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;
using F = Backprop.Nn.Functional;

namespace Backprop.Tests.Docs;

/// <summary>The README's "Training in less memory" examples, run as written.</summary>
public class ReadmeMemoryExamplesTests
{
    private static (Sequential Model, Tensor X, Tensor Labels) Setup()
    {
        var generator = new Generator(3);
        var model = new Sequential(new Linear(8, 8, generator: generator), new Relu(), new Linear(8, 8, generator: generator), new Relu(),
            new Linear(8, 8, generator: generator), new Relu(), new Linear(8, 4, generator: generator));
        return (model, Tensor.Randn(new Shape(5, 8), DType.Float32, generator), Tensor.FromArray(new long[] { 0, 1, 2, 3, 0 }));
    }

    [Fact]
    public void Checkpointing_example_runs()
    {
        var (model, x, labels) = Setup();
        var block = model[0];
        var g = new Generator(4);
        // --- README: "Training in less memory", checkpointing ---
        var y = GradientCheckpoint.Checkpoint(block, x);                      // a module or any Func<Tensor, Tensor>
        var z = GradientCheckpoint.CheckpointSequential(model, segments: 4, x); // all segments but the last checkpointed
        var w = GradientCheckpoint.Checkpoint(t => F.Dropout(t, 0.1, generator: g), x, g); // replay g's state too

        using (var meter = SavedMemoryMeter.Start())                          // live count of bytes held for backward
        {
            F.CrossEntropy(GradientCheckpoint.CheckpointSequential(model, 4, x), labels).Backward();
            Console.WriteLine(SavedTensorReport.FormatBytes(meter.PeakBytes)); // peak, each storage once, parameters excluded
            Assert.True(meter.PeakBytes > 0);
        }
        // --- end ---
        Assert.Equal(new Shape(5, 8), y.Shape);
        Assert.Equal(new Shape(5, 4), z.Shape);
        Assert.Equal(new Shape(5, 8), w.Shape);
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));
    }

    [Fact]
    public void Mixed_precision_example_steps()
    {
        var (model, x, labels) = Setup();
        var optimizer = new Sgd(model.Parameters(), learningRate: 0.1);
        var before = model.Parameters().First().ToArray<float>();
        // --- README: "Training in less memory", mixed precision ---
        var scaler = new GradScaler();
        optimizer.ZeroGrad();
        Tensor loss;
        using (Autocast.Enable(DType.Float16)) loss = F.CrossEntropy(model.Forward(x), labels);
        scaler.ScaleLoss(loss).Backward();                                     // backward outside the scope
        scaler.Unscale(optimizer);                                             // before clipping, once per step
        GradientClipping.ClipGradNorm(model.Parameters(), 1.0);
        scaler.Step(optimizer);                                                // skipped if a gradient is not finite
        scaler.Update();
        // --- end ---
        Assert.Equal(DType.Float32, loss.DType);
        Assert.False(before.SequenceEqual(model.Parameters().First().ToArray<float>()), "the step did not change the weights");
    }
}
