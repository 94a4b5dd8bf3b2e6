using System.Diagnostics;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Cli.Commands;

public static partial class Workloads
{
    /// <summary>
    /// Time to a result: the README's MNIST recipe (784-256-128-10 ReLU MLP with PyTorch's default initialisation, Adam
    /// lr 1e-3, batch 64, 10 shuffled epochs, cross-entropy) on the bundled subset, timed as a whole from a cold
    /// process — the JIT's warm-up is part of the figure, loading the data and evaluating are not — then the test
    /// accuracy. Unlike the step workloads it is not warmed up first: it measures what a user waits for.
    /// </summary>
    private static string MnistTimeToResult()
    {
        var train = Mnist.Load(Mnist.BundledDirectory, MnistSplit.Train, flatten: true, normalize: true);
        var test = Mnist.Load(Mnist.BundledDirectory, MnistSplit.Test, flatten: true, normalize: true);
        // The mlp workload's network: the same layers, drawn from seed 0 first.
        var (model, _, _) = MlpSetup();
        var lossFunction = new CrossEntropyLoss();
        var optimizer = new Adam(model.Parameters(), learningRate: 1e-3);
        var loader = new DataLoader(train, batchSize: 64, shuffle: true, generator: new Generator(1));

        var clock = Stopwatch.StartNew();
        for (int epoch = 0; epoch < 10; epoch++)
            foreach (var (images, labels) in loader)
            {
                optimizer.ZeroGrad();
                lossFunction.Forward(model.Forward(images), labels).Backward();
                optimizer.Step();
            }
        double seconds = clock.Elapsed.TotalSeconds;

        model.Eval();
        var (testImages, testLabels) = (test.Tensors[0], test.Tensors[1]);
        Tensor predictions;
        using (Autograd.NoGrad()) predictions = model.Forward(testImages).ArgMax(1);
        double accuracy = 100.0 * predictions.Eq(testLabels).Sum().Item() / testLabels.Size(0);
        return $"mnist seconds={BenchCommand.Format(seconds, "F2")}\nmnist test_accuracy={BenchCommand.Format(accuracy, "F2")}";
    }
}
