using System.Diagnostics;
using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop diagnose memory</c>: the peak bytes held for backward during one training step
/// (<see cref="SavedMemoryMeter"/>) and the step time, for deep MLPs and a residual CNN with and without gradient
/// checkpointing, and for the mlp and cnn bench workloads in float32 and under autocast.
/// </summary>
public static class DiagnoseMemory
{
    /// <summary>One measured configuration.</summary>
    public sealed record Row(string Workload, string Variant, long PeakBytes, double MillisecondsPerStep);

    /// <summary>
    /// A 'depth'-layer Linear(width, width)–ReLU MLP with a 10-class head, and a batch of random inputs and labels. He
    /// initialisation keeps the activations' scale through the depth (with the default, 128 layers shrink them into
    /// float32's subnormal range, whose arithmetic is many times slower and would swamp the timings).
    /// </summary>
    public static (Sequential Model, Tensor Inputs, Tensor Labels) DeepMlp(int depth, int width = 256, int batch = 128)
    {
        var generator = new Generator(0);
        var layers = new List<Module<Tensor, Tensor>>();
        for (int i = 0; i < depth; i++)
        {
            var linear = new Linear(width, width, generator: generator);
            using (Autograd.NoGrad()) Init.KaimingUniform(linear.Weight, nonlinearity: Nonlinearity.Relu, generator: generator);
            layers.Add(linear);
            layers.Add(new Relu());
        }
        layers.Add(new Linear(width, 10, generator: generator));
        return (new Sequential([.. layers]), Tensor.Randn([batch, width], generator: generator), Tensor.RandInt(0, 10, [batch], generator: generator));
    }

    /// <summary>
    /// A residual CNN: Conv2d(1,16,3)–ReLU, 'blocks' basic blocks (Conv–ReLU–Conv plus identity, then ReLU) at 16×28×28,
    /// global average pooling and Linear(16,10); 32 random 1×28×28 inputs with random labels.
    /// </summary>
    public static (Sequential Model, Tensor Inputs, Tensor Labels) ResidualCnn(int blocks = 8, int batch = 32)
    {
        var generator = new Generator(0);
        var layers = new List<Module<Tensor, Tensor>> { new Conv2d(1, 16, 3, padding: 1, generator: generator), new Relu() };
        for (int i = 0; i < blocks; i++)
        {
            layers.Add(new Residual(new Sequential(
                new Conv2d(16, 16, 3, padding: 1, generator: generator), new Relu(),
                new Conv2d(16, 16, 3, padding: 1, generator: generator))));
            layers.Add(new Relu());
        }
        layers.Add(new AdaptiveAvgPool2d(1));
        layers.Add(new Flatten());
        layers.Add(new Linear(16, 10, generator: generator));
        return (new Sequential([.. layers]), Tensor.Randn([batch, 1, 28, 28], generator: generator), Tensor.RandInt(0, 10, [batch], generator: generator));
    }

    /// <summary>Gradient checkpointing: each model unchecked, in 4 segments, and in √(layers) segments.</summary>
    public static IEnumerable<Row> Checkpointing(int rounds)
    {
        foreach (int depth in new[] { 32, 128 })
        {
            var (model, x, y) = DeepMlp(depth);
            string name = $"mlp, {depth} layers";
            int sqrt = (int)Math.Round(Math.Sqrt(model.Count));
            yield return Measure(name, "no checkpointing", model, x, y, t => model.Forward(t), rounds);
            yield return Measure(name, "4 segments", model, x, y, t => GradientCheckpoint.CheckpointSequential(model, 4, t), rounds);
            yield return Measure(name, $"{sqrt} segments (√{model.Count} modules)", model, x, y, t => GradientCheckpoint.CheckpointSequential(model, sqrt, t), rounds);
        }
        {
            var (model, x, y) = ResidualCnn();
            string name = "residual cnn, 8 blocks";
            int sqrt = (int)Math.Round(Math.Sqrt(model.Count));
            yield return Measure(name, "no checkpointing", model, x, y, t => model.Forward(t), rounds);
            yield return Measure(name, "4 segments", model, x, y, t => GradientCheckpoint.CheckpointSequential(model, 4, t), rounds);
            yield return Measure(name, $"{sqrt} segments (√{model.Count} modules)", model, x, y, t => GradientCheckpoint.CheckpointSequential(model, sqrt, t), rounds);
        }
    }

    /// <summary>Mixed precision on the bench's mlp and cnn workloads: float32, then autocast to bfloat16 and to float16 (with a GradScaler).</summary>
    public static IEnumerable<Row> MixedPrecision(int rounds)
    {
        foreach (var (name, setup) in new (string, Func<(Sequential, Tensor, Tensor)>)[] { ("mlp workload", Workloads.MlpSetup), ("cnn workload", Workloads.CnnSetup) })
        {
            foreach (var amp in new DType?[] { null, DType.BFloat16, DType.Float16 })
            {
                var (model, x, y) = setup();
                string variant = amp is { } d ? $"autocast {d.DisplayName()}" + (d == DType.Float16 ? " + GradScaler" : "") : "float32";
                yield return Measure(name, variant, model, x, y, t => model.Forward(t), rounds, amp);
            }
        }
    }

    private static Row Measure(string workload, string variant, Sequential model, Tensor x, Tensor y, Func<Tensor, Tensor> forward, int rounds,
        DType? amp = null)
    {
        var optimizer = new Sgd(model.Parameters(), learningRate: 0.01);
        var scaler = new GradScaler(enabled: amp == DType.Float16);
        void Step()
        {
            optimizer.ZeroGrad();
            Tensor loss;
            using (amp is { } low ? Autocast.Enable(low) : default)
                loss = Functional.CrossEntropy(forward(x), y);
            scaler.ScaleLoss(loss).Backward();
            scaler.Step(optimizer);
            scaler.Update();
        }
        Step();
        long peak;
        using (var meter = SavedMemoryMeter.Start())
        {
            Step();
            peak = meter.PeakBytes;
        }
        for (int i = 0; i < 2; i++) Step();
        var times = new double[rounds];
        for (int r = 0; r < rounds; r++)
        {
            var clock = Stopwatch.StartNew();
            Step();
            times[r] = clock.Elapsed.TotalMilliseconds;
        }
        // The fastest round: the one least disturbed by other processes on the machine (as diagnose overhead reports).
        return new Row(workload, variant, peak, times.Min());
    }
}
