using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Docs;

/// <summary>The README's truncated-BPTT example, run as written.</summary>
public class ReadmeSequenceExampleTests
{
    [Fact]
    public void Truncated_bptt_example_runs_and_learns()
    {
        // --- README: "Sequences: truncated BPTT and gradients through time" ---
        var time = Tensor.Arange(401).Reshape(1, 401, 1) * 0.2;
        var phase = Tensor.Rand([8, 1, 1], generator: new Generator(0)) * 6.28;
        var wave = (time + phase).Sin();                                 // 8 sine waves of 401 steps: [8, 401, 1]
        var (inputs, targets) = (wave.Narrow(1, 0, 400), wave.Narrow(1, 1, 400)); // predict the next value

        var lstm = new Lstm(1, 16, batchFirst: true);
        var head = new Linear(16, 1);
        var optimizer = new Adam(lstm.Parameters().Concat(head.Parameters()), learningRate: 0.01);
        using var monitor = GradientFlowMonitor.Attach(lstm);          // also records ‖∂L/∂h_t‖ at every step
        var tbptt = new TruncatedBptt(k1: 20, k2: 40, batchFirst: true) { MaxGradNorm = 1 };
        RecurrentState? state = null;
        for (int epoch = 0; epoch < 5; epoch++)
        {
            var result = tbptt.Run(lstm, inputs,
                chunk => Functional.MseLoss(head.Forward(chunk.Output), chunk.Steps(targets)), optimizer);
            Console.WriteLine($"epoch {epoch}: {result.Losses.Count} updates, last loss {result.Losses[^1]:F4}");
            state = result.State;                                        // to go on along the same streams
        }
        Console.WriteLine(monitor.Report().ToText());
        // --- end ---
        Assert.NotNull(state);
        Assert.Null(state!.Hidden.GradFn);
        var flow = Assert.Single(monitor.Report().ThroughTime);
        Assert.Equal(100, flow.Passes.Count);
        Assert.Equal(40, flow.Passes[^1].Count);
        var losses = new TruncatedBptt(20, batchFirst: true).Run(lstm, inputs,
            chunk => Functional.MseLoss(head.Forward(chunk.Output), chunk.Steps(targets))).Losses;
        Assert.True(losses.Average() < 0.05, $"mean loss {losses.Average()} after 5 epochs of 20 updates");
    }
}
