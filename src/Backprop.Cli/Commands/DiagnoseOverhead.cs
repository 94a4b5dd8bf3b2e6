using System.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Cli.Commands;

/// <summary>
/// Times the mlp benchmark step (Linear(784,256)-ReLU-Linear(256,128)-ReLU-Linear(128,10), cross-entropy, SGD lr 0.01,
/// batch 128, float32) with no checks, under the non-finite sentinel, and in anomaly mode. Rounds of the three modes
/// are interleaved, so load from other processes falls on all of them alike.
/// </summary>
public static class DiagnoseOverhead
{
    public enum Mode { Off, Sentinel, Anomaly }

    /// <returns>Per mode, the median and the fastest round's ms/step (the fastest is the least disturbed by other load).</returns>
    public static IReadOnlyDictionary<Mode, (double Median, double Min)> Measure(int warmup = 10, int rounds = 15, int stepsPerRound = 10)
    {
        var (model, x, y) = Workloads.MlpSetup();
        var optimizer = new Sgd(model.Parameters(), learningRate: 0.01);
        void Step()
        {
            optimizer.ZeroGrad();
            var loss = Functional.CrossEntropy(model.Forward(x), y);
            loss.Backward();
            optimizer.Step();
        }
        void Run(Mode mode, int steps)
        {
            using var sentinel = mode == Mode.Sentinel ? Autograd.DetectNonFinite() : default(AnomalyScope?);
            using var anomaly = mode == Mode.Anomaly ? Autograd.DetectAnomaly() : default(AnomalyScope?);
            for (int i = 0; i < steps; i++) Step();
        }

        var modes = Enum.GetValues<Mode>();
        foreach (var mode in modes) Run(mode, warmup);
        var times = modes.ToDictionary(m => m, _ => new List<double>());
        for (int r = 0; r < rounds; r++)
            foreach (var mode in modes)
            {
                var sw = Stopwatch.StartNew();
                Run(mode, stepsPerRound);
                times[mode].Add(sw.Elapsed.TotalMilliseconds / stepsPerRound);
            }
        return times.ToDictionary(t => t.Key, t => (t.Value.Order().ElementAt(t.Value.Count / 2), t.Value.Min()));
    }
}
