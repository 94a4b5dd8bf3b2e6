using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Docs;

/// <summary>The README's examples, run as written, so the README never shows code or output that is not true.</summary>
[Collection(nameof(Backprop.Tests.Cli.CliRunner))]
public class ReadmeExamplesTests
{
    [Fact]
    public void First_example_prints_what_the_readme_says()
    {
        // --- README: "A first graph" ---
        var x = Tensor.FromArray(new[] { 1f, 2f });
        var w = Tensor.FromArray(new float[,] { { 0.5f, -0.3f }, { 0.2f, 0.8f } }).SetRequiresGrad();
        var b = Tensor.FromArray(new[] { 0.3f, -0.2f }).SetRequiresGrad();
        var h = (w.MatMul(x) + b).Relu();     // [0.2, 1.6]
        var loss = h.Square().Sum();           // 0.2² + 1.6² = 2.6
        loss.Backward();
        // --- end ---
        Assert.Equal("tensor(2.6000, grad_fn=<SumBackward>)", loss.ToString());
        Assert.Equal("tensor([[0.4000, 0.8000],\n        [3.2000, 6.4000]])", w.Grad!.ToString());
        Assert.Equal("tensor([0.4000, 3.2000])", b.Grad!.ToString());
    }

    [Fact]
    public void Training_example_runs_and_learns()
    {
        // --- README: "Training a network" (on a slice of the bundled digits, for speed) ---
        var data = Mnist.Load(Mnist.BundledDirectory, MnistSplit.Train, flatten: true, normalize: true);
        var train = new Subset(data, Enumerable.Range(0, 512).ToArray());
        var model = new Sequential(new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
        var lossFunction = new CrossEntropyLoss();
        var optimizer = new Adam(model.Parameters(), learningRate: 1e-3);
        var loader = new DataLoader(train, batchSize: 64, shuffle: true);
        double first = double.NaN, last = 0;
        for (int epoch = 0; epoch < 3; epoch++)
            foreach (var (images, labels) in loader)
            {
                optimizer.ZeroGrad();
                var loss = lossFunction.Forward(model.Forward(images), labels);
                loss.Backward();
                optimizer.Step();
                last = loss.Item();
                if (double.IsNaN(first)) first = last;
            }
        var dir = Directory.CreateTempSubdirectory("backprop-readme");
        try
        {
            var checkpoint = new Checkpoint();
            model.SaveState(checkpoint, "model.");
            optimizer.SaveState(checkpoint, "optimizer.");
            loader.SaveState(checkpoint, "loader.");
            checkpoint.SetGenerator("default", Generator.Default);
            checkpoint.Save(Path.Combine(dir.FullName, "run.safetensors"));
            SafeTensors.Save(Path.Combine(dir.FullName, "model.safetensors"), model.StateDict());

            var resumedModel = new Sequential(new Linear(784, 256), new Relu(), new Linear(256, 128), new Relu(), new Linear(128, 10));
            var resumedOptimizer = new Adam(resumedModel.Parameters(), learningRate: 1e-3);
            var resumedLoader = new DataLoader(train, batchSize: 64, shuffle: true);
            var saved = Checkpoint.Load(Path.Combine(dir.FullName, "run.safetensors"));
            resumedModel.LoadState(saved, "model.");
            resumedOptimizer.LoadState(saved, "optimizer.");
            resumedLoader.LoadState(saved, "loader.");
            saved.RestoreGenerator("default", Generator.Default);
            // --- end ---
            var reloaded = SafeTensors.Load(Path.Combine(dir.FullName, "model.safetensors"));
            Assert.Equal(model.StateDict().Keys.Order(), reloaded.Tensors.Keys.Order());

            // What the snippet saves is all a resumed run needs: one more epoch of each gives the same bits.
            TrainEpoch(model, optimizer, loader, lossFunction);
            TrainEpoch(resumedModel, resumedOptimizer, resumedLoader, lossFunction);
            foreach (var (name, parameter) in model.StateDict())
                Assert.True(parameter.ToArray<float>().AsSpan().SequenceEqual(resumedModel.StateDict()[name].ToArray<float>()),
                    $"{name} differs after resuming");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
        Assert.True(last < first / 3, $"loss went from {first} to {last}");
    }

    private static void TrainEpoch(Sequential model, Optimizer optimizer, DataLoader loader, CrossEntropyLoss lossFunction)
    {
        foreach (var (images, labels) in loader)
        {
            optimizer.ZeroGrad();
            lossFunction.Forward(model.Forward(images), labels).Backward();
            optimizer.Step();
        }
    }

    [Fact]
    public void Gradcheck_example_checks_a_custom_function()
    {
        // --- README: "Checking a gradient" ---
        var input = Tensor.Randn([3, 4], DType.Float64, requiresGrad: true);
        var result = Gradcheck.Check(t => (t[0].Sigmoid() * t[0]).Sum(1), [input]);
        Console.WriteLine(result);   // input 0 [3, 4]: max abs error …, max rel error …
        // --- end ---
        Assert.True(result.Passed, result.ToString());
    }
}
