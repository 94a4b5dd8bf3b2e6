using Backprop.Data;
using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Cli.Commands;

/// <summary>One training run of a demonstration: its name, the monitor's report, and the loss at each step.</summary>
public sealed record DiagnoseRun(string Name, GradientFlowReport Report, IReadOnlyList<double> Losses);

/// <summary>
/// The classic demonstrations of gradient problems, trained for real and watched by a <see cref="GradientFlowMonitor"/>:
/// a deep sigmoid stack against the same stack with ReLU (vanishing), and an unnormalised regression with and without
/// gradient clipping (exploding).
/// </summary>
public static class DiagnoseDemos
{
    /// <summary>Depth of the vanishing demo: 10 Linear layers.</summary>
    public const int Depth = 10;

    /// <summary>
    /// Two-moons classification (256 points) by a 10-layer MLP of width 32, once with sigmoid and once with ReLU between
    /// the layers; both start from the same weights (He-normal, zero biases, from one seed) and train with full-batch SGD
    /// (learning rate 0.1). He initialisation keeps the ReLU stack's gradients near one size through its depth; the
    /// sigmoid's derivative (at most ¼) shrinks them layer after layer.
    /// </summary>
    public static (DiagnoseRun Sigmoid, DiagnoseRun Relu) Vanishing(int steps = 60, ulong seed = 0)
    {
        var data = SyntheticData.TwoMoons(256, noise: 0.1, seed: seed);
        var (x, y) = (data.Tensors[0], data.Tensors[1]);
        DiagnoseRun Train(string name, Func<Module<Tensor, Tensor>> activation)
        {
            var generator = new Generator(seed);
            var model = new Sequential();
            for (int i = 0; i < Depth; i++)
            {
                var linear = new Linear(i == 0 ? 2 : 32, i == Depth - 1 ? 2 : 32, generator: generator);
                Init.KaimingNormal(linear.Weight, nonlinearity: Nonlinearity.Relu, generator: generator);
                Init.Zeros(linear.Bias!);
                model.Add(linear);
                if (i < Depth - 1) model.Add(activation());
            }
            var optimizer = new Sgd(model.Parameters(), learningRate: 0.1);
            using var monitor = GradientFlowMonitor.Attach(model);
            var losses = new List<double>();
            for (int step = 0; step < steps; step++)
            {
                optimizer.ZeroGrad();
                var loss = Functional.CrossEntropy(model.Forward(x), y);
                loss.Backward();
                optimizer.Step();
                losses.Add(loss.Item());
            }
            return new DiagnoseRun(name, monitor.Report(), losses);
        }
        return (Train("sigmoid", () => new Sigmoid()), Train("relu", () => new Relu()));
    }

    /// <summary>
    /// Regression of unscaled targets (y = 5·Σ sin xᵢ over 8 standard-normal inputs, so a variance near 85) by a
    /// 4-layer ReLU MLP with SGD at learning rate 0.05, a rate that suits scaled targets: without clipping each update
    /// overshoots, so the gradients grow step after step until they overflow; with
    /// <see cref="GradientClipping.ClipGradNorm"/> at <paramref name="maxNorm"/> the same run stays bounded and learns.
    /// </summary>
    public static (DiagnoseRun Unclipped, DiagnoseRun Clipped) Exploding(int steps = 40, ulong seed = 0, double maxNorm = 5.0)
    {
        var generator = new Generator(seed);
        var x = Tensor.Randn([256, 8], generator: generator);
        Tensor y;
        using (Autograd.NoGrad()) y = x.Sin().Sum(1, keepDim: true) * 5.0;
        DiagnoseRun Train(string name, bool clip)
        {
            var init = new Generator(seed + 1);
            var model = new Sequential(
                new Linear(8, 64, generator: init), new Relu(),
                new Linear(64, 64, generator: init), new Relu(),
                new Linear(64, 64, generator: init), new Relu(),
                new Linear(64, 1, generator: init));
            var optimizer = new Sgd(model.Parameters(), learningRate: 0.05);
            using var monitor = GradientFlowMonitor.Attach(model);
            var losses = new List<double>();
            for (int step = 0; step < steps; step++)
            {
                optimizer.ZeroGrad();
                var loss = Functional.MseLoss(model.Forward(x), y);
                loss.Backward();
                if (clip) GradientClipping.ClipGradNorm(model.Parameters(), maxNorm);
                optimizer.Step();
                losses.Add(loss.Item());
                if (!double.IsFinite(losses[^1])) break; // diverged: nothing more to learn from this run
            }
            return new DiagnoseRun(name, monitor.Report(), losses);
        }
        return (Train("unclipped", clip: false), Train("clipped", clip: true));
    }
}
