using Backprop.Cli.Training;
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
    /// The adding problem (<see cref="AddingProblem"/>) over <paramref name="length"/> steps, learned by a tanh RNN and by
    /// an LSTM of <paramref name="hidden"/> units reading the whole sequence (the LSTM's forget gates start at bias 1, the
    /// usual practice), each with Adam (learning rate 0.01, gradient norm clipped to 1) on batches of 32 of 1024 training
    /// sequences. The monitor records ‖∂L/∂h_t‖ at every step of every backward pass; the loss sits on the last step only,
    /// so ∂L/∂h_t for earlier t is what backpropagation through time carries back. The RNN's gradient shrinks by its
    /// recurrent Jacobian at every step; the LSTM's travels along the cell state, scaled by forget gates near 1.
    /// </summary>
    public static (DiagnoseRun Rnn, DiagnoseRun Lstm) ThroughTime(int steps = 600, int length = 50, int hidden = 16, ulong seed = 0)
    {
        var data = AddingProblem.Create(1024, length, seed);
        DiagnoseRun Train(RecurrentKind kind)
        {
            var model = new SequenceRegressor(kind, 2, hidden, new Generator(seed + 1), forgetBias: 1);
            var optimizer = new Adam(model.Parameters(), learningRate: 0.01);
            var loader = new DataLoader(data, 32, shuffle: true, generator: new Generator(seed + 2));
            using var monitor = GradientFlowMonitor.Attach(model);
            var losses = new List<double>();
            while (losses.Count < steps)
                foreach (var (inputs, targets) in loader)
                {
                    if (losses.Count == steps) break;
                    optimizer.ZeroGrad();
                    var loss = Functional.MseLoss(model.Forward(inputs), targets);
                    loss.Backward();
                    GradientClipping.ClipGradNorm(model.Parameters(), 1.0);
                    optimizer.Step();
                    losses.Add(loss.Item());
                }
            return new DiagnoseRun(SequenceRegressor.NameOf(kind), monitor.Report(), losses);
        }
        return (Train(RecurrentKind.Rnn), Train(RecurrentKind.Lstm));
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
