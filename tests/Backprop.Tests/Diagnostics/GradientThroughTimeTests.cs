using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;
using Backprop.Tests.Nn;

namespace Backprop.Tests.Diagnostics;

public class GradientThroughTimeTests
{
    private const int Batch = 3, InputSize = 2, Hidden = 5;

    private static Tensor Inputs(int length, ulong seed = 21) => Tensor.Randn([length, Batch, InputSize], DType.Float64, new Generator(seed));

    /// <summary>A loss on the last step only, so every earlier ∂L/∂h_t comes through the recurrence alone.</summary>
    private static Tensor LastStepLoss(Tensor output) => output.Select(0, output.Size(0) - 1).Square().Mean();

    [Fact]
    public void It_records_the_total_derivative_reaching_every_hidden_state()
    {
        var model = new SmallTanhRnn(InputSize, Hidden, seed: 1);
        using var monitor = GradientFlowMonitor.Attach(model);
        var observe = monitor.ObserveSteps("rnn", "SmallTanhRnn");
        var states = new List<Tensor>();
        model.StepObserver = (t, h) =>
        {
            observe(t, h);
            states.Add(h.RetainGrad());
        };
        var x = Inputs(6);
        LastStepLoss(model.Forward(x).Output).Backward();
        // A second pass, over a shorter sequence, is a second row.
        states.Clear();
        var (output, _) = model.Forward(x.Narrow(0, 0, 4));
        (output.Square().Mean()).Backward();

        var flow = Assert.Single(monitor.Report().ThroughTime);
        Assert.Equal("rnn (SmallTanhRnn)", flow.Label);
        Assert.Equal(2, flow.Passes.Count);
        Assert.Equal(6, flow.Passes[0].Count);
        Assert.Equal(4, flow.Passes[1].Count);
        for (int t = 0; t < 4; t++)
        {
            double expected = Math.Sqrt(states[t].Grad!.Square().Sum().Item());
            Assert.True(Math.Abs(flow.Passes[1][t] - expected) <= 1e-12 * expected, $"t = {t}: monitor {flow.Passes[1][t]}, RetainGrad {expected}");
        }
        // Every step's loss reaches h_t directly in the second pass, the last step's only through h_5 in the first.
        Assert.True(flow.Passes[0][0] < flow.Passes[0][5]);
    }

    [Fact]
    public void Contracting_recurrent_weights_are_flagged_and_an_identity_recurrence_is_not()
    {
        GradientFlowReport Run(Action<SmallTanhRnn> setWeights)
        {
            var model = new SmallTanhRnn(InputSize, Hidden, seed: 2);
            using (Autograd.NoGrad()) setWeights(model);
            using var monitor = GradientFlowMonitor.Attach(model);
            model.StepObserver = monitor.ObserveSteps("rnn");
            var optimizer = new Sgd(model.Parameters(), learningRate: 0.01);
            for (int step = 0; step < 4; step++)
            {
                optimizer.ZeroGrad();
                LastStepLoss(model.Forward(Inputs(40, seed: (ulong)step) * 0.1).Output).Backward();
                optimizer.Step();
            }
            return monitor.Report();
        }

        var contracting = Run(m => m.WeightHh.MulInPlace(0.25));
        var identity = Run(m => m.WeightHh.CopyFrom(Tensor.Eye(Hidden, DType.Float64)));

        var shrinking = Assert.Single(contracting.ThroughTime);
        Assert.True(shrinking.FirstToLastRatio < 1e-6, $"ratio {shrinking.FirstToLastRatio}");
        Assert.True(contracting.VanishingThroughTime);
        var finding = Assert.Single(contracting.Findings, f => f.StartsWith("vanishing through time"));
        Assert.Contains("‖∂L/∂h_40‖", finding);
        Assert.True(shrinking.Horizon(1e-3) is > 0 and < 40, $"horizon {shrinking.Horizon(1e-3)}");
        Assert.Contains("Gradient through time in rnn (recurrent)", contracting.ToText());

        var kept = Assert.Single(identity.ThroughTime);
        Assert.True(kept.FirstToLastRatio > 1e-2, $"ratio {kept.FirstToLastRatio}");
        Assert.False(identity.VanishingThroughTime);
        Assert.Equal(40, kept.Horizon(1e-3));
        // Norms summarise the last quarter of the 4 passes: the last one.
        Assert.Equal(kept.Passes[^1], kept.Norms);
    }

    [Fact]
    public void Under_truncated_bptt_each_update_is_a_pass_counted_from_its_window_start()
    {
        // k1 = 2, k2 = 4 over 8 steps: windows [0, 2), [0, 4), [2, 6), [4, 8); the last three run as two module calls each.
        var model = new SmallTanhRnn(InputSize, Hidden, seed: 3);
        using var monitor = GradientFlowMonitor.Attach(model);
        model.StepObserver = monitor.ObserveSteps("rnn");
        var target = Tensor.Randn([8, Batch, Hidden], DType.Float64, new Generator(4));
        new TruncatedBptt(2, 4).Run(model, Inputs(8), c => Functional.MseLoss(c.Output, c.Steps(target)), new Sgd(model.Parameters(), learningRate: 0.1));
        var flow = Assert.Single(monitor.Report().ThroughTime);
        Assert.Equal([2, 4, 4, 4], flow.Passes.Select(p => p.Count));
        Assert.All(flow.Passes, p => Assert.All(p, n => Assert.True(n > 0, "every step of a window gets a gradient")));
    }

    [Fact]
    public void Attach_watches_the_library_recurrent_layers_and_gives_their_observer_back_on_dispose()
    {
        var lstm = new Lstm(InputSize, Hidden, generator: new Generator(6), dtype: DType.Float64);
        var seen = new List<int>();
        var states = new List<Tensor>();
        Action<int, Tensor> own = (t, h) =>
        {
            seen.Add(t);
            states.Add(h.RetainGrad());
        };
        lstm.StepObserver = own;
        using (var monitor = GradientFlowMonitor.Attach(lstm))
        {
            LastStepLoss(lstm.Forward(Inputs(7)).Output).Backward();
            var flow = Assert.Single(monitor.Report().ThroughTime);
            Assert.Equal("(model) (Lstm)", flow.Label);
            var pass = Assert.Single(flow.Passes);
            Assert.Equal(7, pass.Count);
            for (int t = 0; t < 7; t++)
            {
                double expected = Math.Sqrt(states[t].Grad!.Square().Sum().Item());
                Assert.True(Math.Abs(pass[t] - expected) <= 1e-12 * expected, $"t = {t}: monitor {pass[t]}, RetainGrad {expected}");
            }
        }
        Assert.Equal(Enumerable.Range(0, 7), seen);
        Assert.Same(own, lstm.StepObserver);
    }

    [Fact]
    public void After_dispose_nothing_more_is_recorded()
    {
        var model = new SmallTanhRnn(InputSize, Hidden, seed: 5);
        var monitor = GradientFlowMonitor.Attach(model);
        model.StepObserver = monitor.ObserveSteps("rnn");
        LastStepLoss(model.Forward(Inputs(3)).Output).Backward();
        monitor.Dispose();
        LastStepLoss(model.Forward(Inputs(3)).Output).Backward();
        Assert.Single(Assert.Single(monitor.Report().ThroughTime).Passes);
        Assert.Throws<ObjectDisposedException>(() => monitor.ObserveSteps("again"));
    }
}
