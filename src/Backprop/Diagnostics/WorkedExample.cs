using Backprop.Nn;

namespace Backprop.Diagnostics;

/// <summary>
/// A small network from a backpropagation tutorial, built with the library's own ops so its forward values and every
/// backward step come from the real engine. <see cref="Forward"/> lists the named intermediate tensors in order.
/// </summary>
public sealed class WorkedExample
{
    private WorkedExample(string key, string title, IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> forward, Tensor loss,
        double learningRate, IReadOnlyDictionary<string, string> formulas)
    {
        Formulas = formulas;
        Key = key;
        Title = title;
        Parameters = parameters;
        Forward = forward;
        Loss = loss;
        LearningRate = learningRate;
    }

    public string Key { get; }
    public string Title { get; }

    /// <summary>Named leaves that require grad (W1, b1, W2, b2).</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>Named forward tensors, input first, loss last.</summary>
    public IReadOnlyList<Tensor> Forward { get; }

    public Tensor Loss { get; }

    /// <summary>How the tutorial writes each forward tensor (by name), e.g. "z1" → "W1·x + b1".</summary>
    public IReadOnlyDictionary<string, string> Formulas { get; }

    /// <summary>The step size of the tutorial's SGD update (0 when it shows none).</summary>
    public double LearningRate { get; }

    public static IReadOnlyList<string> Keys { get; } = ["a", "b"];

    public static WorkedExample Create(string key) => key switch
    {
        "a" => ReluSigmoidCrossEntropy(),
        "b" => SigmoidSquaredError(),
        _ => throw new ArgumentException($"No worked example '{key}'; choose one of: {string.Join(", ", Keys)}."),
    };

    private static Tensor Named(Tensor t, string name)
    {
        t.Name = name;
        return t;
    }

    private static Tensor Parameter(float[] values, int[] shape, string name) =>
        Named(Tensor.FromArray(values, shape).SetRequiresGrad(), name);

    /// <summary>
    /// x = [1, 2]; z1 = W1·x + b1, a1 = ReLU(z1); z2 = W2·a1 + b2, ŷ = σ(z2); binary cross-entropy with y = 1.
    /// </summary>
    private static WorkedExample ReluSigmoidCrossEntropy()
    {
        var w1 = Parameter([0.5f, -0.3f, 0.2f, 0.8f], [2, 2], "W1");
        var b1 = Parameter([0.1f, -0.2f], [2], "b1");
        var w2 = Parameter([1f, -0.5f], [1, 2], "W2");
        var b2 = Parameter([0.5f], [1], "b2");
        var x = Named(Tensor.FromArray(new[] { 1f, 2f }, 1, 2), "x");
        var y = Named(Tensor.FromArray(new[] { 1f }, 1, 1), "y");
        var z1 = Named(Functional.Linear(x, w1, b1), "z1");
        var a1 = Named(z1.Relu(), "a1");
        var z2 = Named(Functional.Linear(a1, w2, b2), "z2");
        var yHat = Named(z2.Sigmoid(), "ŷ");
        var loss = Named(Functional.BinaryCrossEntropy(yHat, y), "L");
        return new WorkedExample("a", "2-2-1 network: ReLU hidden layer, sigmoid output, binary cross-entropy",
            [w1, b1, w2, b2], [x, z1, a1, z2, yHat, y, loss], loss, 0, new Dictionary<string, string>
            {
                ["z1"] = "W1·x + b1", ["a1"] = "ReLU(z1)", ["z2"] = "W2·a1 + b2", ["ŷ"] = "σ(z2)",
                ["L"] = "−[y·log ŷ + (1 − y)·log(1 − ŷ)]",
            });
    }

    /// <summary>
    /// x = [0.5, 0.8]; z1 = W1·x + b1, a1 = σ(z1); z2 = W2·a1 + b2, ŷ = σ(z2); L = ½(ŷ − y)² with y = 1;
    /// then one SGD step with η = 0.5.
    /// </summary>
    private static WorkedExample SigmoidSquaredError()
    {
        var w1 = Parameter([0.4f, 0.6f], [1, 2], "W1");
        var b1 = Parameter([0.1f], [1], "b1");
        var w2 = Parameter([0.9f], [1, 1], "W2");
        var b2 = Parameter([0.1f], [1], "b2");
        var x = Named(Tensor.FromArray(new[] { 0.5f, 0.8f }, 1, 2), "x");
        var y = Named(Tensor.FromArray(new[] { 1f }, 1, 1), "y");
        var z1 = Named(Functional.Linear(x, w1, b1), "z1");
        var a1 = Named(z1.Sigmoid(), "a1");
        var z2 = Named(Functional.Linear(a1, w2, b2), "z2");
        var yHat = Named(z2.Sigmoid(), "ŷ");
        var loss = Named((yHat - y).Square().Sum() * 0.5, "L");
        return new WorkedExample("b", "2-1-1 network: sigmoid hidden and output units, squared error ½(ŷ − y)², one SGD step",
            [w1, b1, w2, b2], [x, z1, a1, z2, yHat, y, loss], loss, 0.5, new Dictionary<string, string>
            {
                ["z1"] = "W1·x + b1", ["a1"] = "σ(z1)", ["z2"] = "W2·a1 + b2", ["ŷ"] = "σ(z2)", ["L"] = "½(ŷ − y)²",
            });
    }

    /// <summary>Runs backward on the loss with a trace attached, and returns the trace.</summary>
    public BackwardTrace Backward()
    {
        var trace = BackwardTrace.Attach(Loss, Forward, Parameters);
        foreach (var t in Forward) if (t.RequiresGrad && !t.IsLeaf) t.RetainGrad();
        Loss.Backward();
        trace.Dispose();
        return trace;
    }

    /// <summary>The parameters after one SGD step θ ← θ − η·∂L/∂θ (call after <see cref="Backward"/>).</summary>
    public IReadOnlyList<Tensor> SgdStep()
    {
        using (Autograd.NoGrad())
            return Parameters.Select(p => Named(p - p.Grad! * LearningRate, p.Name!)).ToArray();
    }
}
