using Backprop.Cli.Commands;
using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Diagnostics;

public class GradientFlowMonitorTests
{
    private static (Tensor X, Tensor Y) Data(int n = 64, ulong seed = 3)
    {
        var generator = new Generator(seed);
        var x = Tensor.Randn([n, 4], generator: generator);
        Tensor y;
        using (Autograd.NoGrad()) y = x.Sum(1, keepDim: true).Sin();
        return (x, y);
    }

    private static GradientFlowReport Train(Sequential model, int steps, Tensor x, Tensor y, double learningRate = 0.05, bool zeroGrad = true)
    {
        var optimizer = new Sgd(model.Parameters(), learningRate: learningRate);
        using var monitor = GradientFlowMonitor.Attach(model);
        for (int i = 0; i < steps; i++)
        {
            if (zeroGrad) optimizer.ZeroGrad();
            Functional.MseLoss(model.Forward(x), y).Backward();
            optimizer.Step();
        }
        return monitor.Report();
    }

    [Fact]
    public void Statistics_of_a_known_gradient()
    {
        // g = [3, −4, 0, 0]: ‖g‖ = 5, mean −1/4, E[g²] = 25/4 so std = √(25/4 − 1/16) = √99/4, half the elements zero.
        var s = GradientStatistics.Of(Tensor.FromArray(new[] { 3f, -4f, 0f, 0f }));
        Assert.Equal(5, s.Norm, 12);
        Assert.Equal(-0.25, s.Mean, 12);
        Assert.Equal(Math.Sqrt(99) / 4, s.Std, 12);
        Assert.Equal(0.5, s.ZeroFraction);
        var t = GradientStatistics.Of(Tensor.FromArray(new[] { 1.0, double.NaN, 0.0 }).T);
        Assert.Equal(1, t.NonFinite);
        Assert.Equal(1, t.Zeros);
    }

    [Fact]
    public void The_monitor_records_each_parameters_gradient_as_backward_computes_it()
    {
        var model = new Sequential(new Linear(4, 3, generator: new Generator(1)), new Tanh(), new Linear(3, 1, generator: new Generator(2)));
        var (x, y) = Data(8);
        using var monitor = GradientFlowMonitor.Attach(model);
        Functional.MseLoss(model.Forward(x), y).Backward();
        var report = monitor.Report();
        Assert.Equal(1, report.Steps);
        var first = report.Layers[0];
        Assert.Equal("0 (Linear)", first.Label);
        var weight = ((Linear)model[0]).Weight.Grad!;
        var bias = ((Linear)model[0]).Bias!.Grad!;
        double expected = Math.Sqrt(weight.Square().Sum().Item() + bias.Square().Sum().Item());
        // The monitor sums squares in float64; the expectation's float32 sums each round once (relative 6e-8).
        Assert.True(Math.Abs(first.Norms[0] - expected) <= 1e-6 * expected, $"{first.Norms[0]} vs {expected}");
        double weightNorm = weight.Norm().Item(), recorded = first.Parameters.Single(p => p.Name == "0.weight").Last!.Value.Norm;
        Assert.True(Math.Abs(recorded - weightNorm) <= 1e-6 * weightNorm, $"{recorded} vs {weightNorm}");
    }

    [Fact]
    public void A_dead_relu_layer_is_flagged()
    {
        var generator = new Generator(5);
        var dying = new Linear(4, 16, generator: generator);
        using (Autograd.NoGrad()) dying.Bias!.FillInPlace(-10); // every pre-activation is far below zero: the ReLU after it never fires
        var model = new Sequential(dying, new Relu(), new Linear(16, 1, generator: generator));
        var (x, y) = Data();
        var report = Train(model, 12, x, y);
        Assert.True(report.DeadUnits);
        var relu = report.Layers.Single(l => l.Type == "Relu");
        Assert.Equal(1.0, relu.DeadUnitFraction);
        Assert.All(relu.DeadFractions, f => Assert.Equal(1.0, f));
        Assert.Equal(1.0, report.Layers[0].Last!.Value.ZeroFraction); // no gradient reaches the dead layer's weights
        Assert.Contains(report.Findings, f => f.StartsWith("dead units", StringComparison.Ordinal) && f.Contains("1 (Relu)"));
        Assert.Contains("dead units", report.ToText());
    }

    [Fact]
    public void A_healthy_relu_layer_is_not_flagged()
    {
        var generator = new Generator(5);
        var model = new Sequential(new Linear(4, 16, generator: generator), new Relu(), new Linear(16, 1, generator: generator));
        var (x, y) = Data();
        var report = Train(model, 12, x, y);
        Assert.False(report.DeadUnits);
        Assert.False(report.Vanishing);
        Assert.False(report.Exploding);
        Assert.Empty(report.Findings);
    }

    [Fact]
    public void A_deep_sigmoid_stack_vanishes_and_the_same_relu_stack_does_not()
    {
        var (sigmoid, relu) = DiagnoseDemos.Vanishing(steps: 10);
        Assert.True(sigmoid.Report.Vanishing);
        Assert.True(sigmoid.Report.FirstToLastRatio < 1e-4, $"ratio {sigmoid.Report.FirstToLastRatio}");
        Assert.False(relu.Report.Vanishing);
        Assert.True(relu.Report.FirstToLastRatio > 0.05, $"ratio {relu.Report.FirstToLastRatio}");
        // δ shrinks layer after layer through the sigmoid stack: each layer's is smaller than the next one's.
        var deltas = sigmoid.Report.Layers.Where(l => l.HasParameters).Select(l => l.MedianOutputGradientRms).ToList();
        Assert.Equal(DiagnoseDemos.Depth, deltas.Count);
        for (int i = 0; i + 1 < deltas.Count; i++) Assert.True(deltas[i] < deltas[i + 1], $"layer {i}: {deltas[i]} vs {deltas[i + 1]}");
    }

    [Fact]
    public void Gradients_explode_without_clipping_and_not_with_it()
    {
        var (unclipped, clipped) = DiagnoseDemos.Exploding();
        Assert.True(unclipped.Report.Exploding);
        Assert.True(unclipped.Report.MaxNorm > unclipped.Report.Options.ExplodingNorm || unclipped.Report.NonFinite);
        Assert.False(clipped.Report.Exploding);
        Assert.True(clipped.Losses[^1] < clipped.Losses[0] / 2, "with clipping the same run learns");
    }

    [Fact]
    public void A_forgotten_zero_grad_is_noticed()
    {
        var generator = new Generator(5);
        var model = new Sequential(new Linear(4, 8, generator: generator), new Relu(), new Linear(8, 1, generator: generator));
        var (x, y) = Data();
        Assert.True(Train(model, 3, x, y, zeroGrad: false).Accumulating);
        Assert.False(Train(model, 3, x, y, zeroGrad: true).Accumulating);
    }

    [Fact]
    public void Non_finite_gradients_are_flagged_as_exploding()
    {
        var model = new Sequential(new Linear(1, 1, generator: new Generator(1)));
        using var monitor = GradientFlowMonitor.Attach(model);
        var x = Tensor.FromArray(new[] { float.PositiveInfinity }, 1, 1);
        model.Forward(x).Sum().Backward();
        var report = monitor.Report();
        Assert.True(report.NonFinite);
        Assert.True(report.Exploding);
    }

    [Fact]
    public void Disposing_removes_the_hooks_but_keeps_the_figures()
    {
        var model = new Sequential(new Linear(4, 2, generator: new Generator(1)), new Relu());
        var (x, _) = Data(8);
        var monitor = GradientFlowMonitor.Attach(model);
        model.Forward(x).Sum().Backward();
        monitor.Dispose();
        model.Forward(x).Sum().Backward();
        Assert.Equal(1, monitor.Steps);
        Assert.Equal(1, monitor.Report().Steps);
    }
}
