using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Cli.Commands;

/// <summary>
/// The benchmark workloads (the README's Performance table): float32, random inputs from a fixed seed, and each training
/// step the whole of what a user's loop does (zero the gradients, forward, loss, backward, optimizer step).
/// </summary>
public static class Workloads
{
    /// <summary>The line for one workload.</summary>
    public static string Run(string name, bool reportAllocations) => name switch
    {
        "gemm" => Gemm(),
        "mlp" => Mlp(reportAllocations),
        "xor" => Xor(reportAllocations),
        "cnn" => Cnn(reportAllocations),
        "lstm" => Lstm(reportAllocations),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Workloads: no such workload."),
    };

    private static string Gemm()
    {
        var generator = new Generator(0);
        var a = Tensor.Randn([1024, 1024], generator: generator);
        var b = Tensor.Randn([1024, 1024], generator: generator);
        var (seconds, _) = BenchCommand.Median(() => a.MatMul(b), warm: 3, rounds: 7, perRound: 5);
        return $"gemm GFLOPS={BenchCommand.Format(2.0 * 1024 * 1024 * 1024 / seconds / 1e9, "F1")}";
    }

    /// <summary>A training step as a user writes it: zero, forward, loss, backward, update.</summary>
    public static Action TrainStep(Module<Tensor, Tensor> model, Loss loss, Tensor x, Tensor y, double learningRate)
    {
        var optimizer = new Sgd(model.Parameters(), learningRate: learningRate);
        return () =>
        {
            optimizer.ZeroGrad();
            loss.Forward(model.Forward(x), y).Backward();
            optimizer.Step();
        };
    }

    /// <summary>
    /// The mlp workload's network and batch: Linear(784,256)-ReLU-Linear(256,128)-ReLU-Linear(128,10) and 128 random
    /// inputs with random labels, all from seed 0. Shared by the bench, <c>diagnose overhead</c> and <c>graph mlp</c>.
    /// </summary>
    public static (Sequential Model, Tensor Inputs, Tensor Labels) MlpSetup()
    {
        var generator = new Generator(0);
        var model = new Sequential(
            new Linear(784, 256, generator: generator), new Relu(),
            new Linear(256, 128, generator: generator), new Relu(),
            new Linear(128, 10, generator: generator));
        return (model, Tensor.Randn([128, 784], generator: generator), Tensor.RandInt(0, 10, [128], generator: generator));
    }

    private static string Mlp(bool reportAllocations)
    {
        var (model, x, y) = MlpSetup();
        var step = TrainStep(model, new CrossEntropyLoss(), x, y, 0.01);
        var (seconds, bytes) = BenchCommand.Median(step, warm: 20, rounds: 15, perRound: 20);
        return $"mlp ms/step={BenchCommand.Format(seconds * 1e3, "F3")}" + (reportAllocations ? $" bytes/step={bytes}" : "");
    }

    private static string Xor(bool reportAllocations)
    {
        var generator = new Generator(0);
        var model = new Sequential(new Linear(2, 4, generator: generator), new Relu(), new Linear(4, 4, generator: generator), new Relu(),
            new Linear(4, 1, generator: generator), new Sigmoid());
        var x = Tensor.FromArray(new float[] { 0, 0, 0, 1, 1, 0, 1, 1 }, 4, 2);
        var y = Tensor.FromArray(new float[] { 0, 1, 1, 0 }, 4, 1);
        var step = TrainStep(model, new BceLoss(), x, y, 0.5);
        var (seconds, bytes) = BenchCommand.Median(step, warm: 200, rounds: 15, perRound: 200);
        return $"xor us/step={BenchCommand.Format(seconds * 1e6, "F1")}" + (reportAllocations ? $" bytes/step={bytes}" : "");
    }

    /// <summary>
    /// The cnn workload's network and batch: Conv2d(1,8,3,pad 1)-ReLU-MaxPool(2)-Conv2d(8,16,3,pad 1)-ReLU-MaxPool(2)-
    /// Flatten-Linear(784,10) and 64 random 1×28×28 inputs with random labels, all from seed 0. Shared by the bench and
    /// <c>graph cnn</c>.
    /// </summary>
    public static (Sequential Model, Tensor Inputs, Tensor Labels) CnnSetup()
    {
        var generator = new Generator(0);
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1, generator: generator), new Relu(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1, generator: generator), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(16 * 7 * 7, 10, generator: generator));
        return (model, Tensor.Randn([64, 1, 28, 28], generator: generator), Tensor.RandInt(0, 10, [64], generator: generator));
    }

    private static string Cnn(bool reportAllocations)
    {
        var (model, x, y) = CnnSetup();
        var step = TrainStep(model, new CrossEntropyLoss(), x, y, 0.01);
        // The JIT's tiers (quick, instrumented, optimised) settle after a few hundred steps: time the steady state.
        var (seconds, bytes) = BenchCommand.Median(step, warm: 400, rounds: 15, perRound: 10);
        return $"cnn ms/step={BenchCommand.Format(seconds * 1e3, "F3")}" + (reportAllocations ? $" bytes/step={bytes}" : "");
    }

    /// <summary>
    /// The lstm workload: Lstm(64→256, batch-first) and Linear(256, 64) on every step, cross-entropy over all 32×35
    /// steps, SGD lr 0.01; random inputs [32, 35, 64] and labels, all from seed 0.
    /// </summary>
    private static string Lstm(bool reportAllocations)
    {
        var generator = new Generator(0);
        var lstm = new Lstm(64, 256, batchFirst: true, generator: generator);
        var head = new Linear(256, 64, generator: generator);
        var x = Tensor.Randn([32, 35, 64], generator: generator);
        var y = Tensor.RandInt(0, 64, [32 * 35], generator: generator);
        var optimizer = new Sgd(lstm.Parameters().Concat(head.Parameters()), learningRate: 0.01);
        var loss = new CrossEntropyLoss();
        void Step()
        {
            optimizer.ZeroGrad();
            var (h, _) = lstm.Forward(x);
            loss.Forward(head.Forward(h).Reshape(-1, 64), y).Backward();
            optimizer.Step();
        }
        var (seconds, bytes) = BenchCommand.Median(Step, warm: 5, rounds: 7, perRound: 5);
        return $"lstm ms/step={BenchCommand.Format(seconds * 1e3, "F3")}" + (reportAllocations ? $" bytes/step={bytes}" : "");
    }
}
