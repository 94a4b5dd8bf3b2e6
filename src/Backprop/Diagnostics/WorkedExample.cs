using Backprop.Nn;

namespace Backprop.Diagnostics;

/// <summary>
/// A small network from a backpropagation tutorial, built with the library's own ops so its forward values and every
/// backward step come from the real engine. <see cref="Forward"/> lists the named intermediate tensors in order.
/// </summary>
public sealed partial class WorkedExample
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

    public static WorkedExample Create(string key) => Create(key, null);

    /// <param name="prepare">
    /// Called with the name and tensor of each given value (x, y) and parameter, in order, to return the tensor the
    /// example computes with instead: a dual tensor for forward mode, a slice of one parameter vector for a Hessian.
    /// </param>
    private static WorkedExample Create(string key, Func<string, Tensor, Tensor>? prepare) => key switch
    {
        "a" => ReluSigmoidCrossEntropy(prepare),
        "b" => SigmoidSquaredError(prepare),
        _ => throw new ArgumentException($"No worked example '{key}'; choose one of: {string.Join(", ", Keys)}."),
    };

    private static Tensor Named(Tensor t, string name)
    {
        t.Name = name;
        return t;
    }

    private static Tensor Given(float[] values, int[] shape, string name, Func<string, Tensor, Tensor>? prepare)
    {
        var t = Tensor.FromArray(values, shape);
        return Named(prepare?.Invoke(name, t) ?? t, name);
    }

    private static Tensor Parameter(float[] values, int[] shape, string name, Func<string, Tensor, Tensor>? prepare)
    {
        var t = Tensor.FromArray(values, shape).SetRequiresGrad();
        return Named(prepare?.Invoke(name, t) ?? t, name);
    }

    /// <summary>
    /// x = [1, 2]; z1 = W1·x + b1, a1 = ReLU(z1); z2 = W2·a1 + b2, ŷ = σ(z2); binary cross-entropy with y = 1.
    /// </summary>
    private static WorkedExample ReluSigmoidCrossEntropy(Func<string, Tensor, Tensor>? prepare)
    {
        var w1 = Parameter([0.5f, -0.3f, 0.2f, 0.8f], [2, 2], "W1", prepare);
        var b1 = Parameter([0.1f, -0.2f], [2], "b1", prepare);
        var w2 = Parameter([1f, -0.5f], [1, 2], "W2", prepare);
        var b2 = Parameter([0.5f], [1], "b2", prepare);
        var x = Given([1f, 2f], [1, 2], "x", prepare);
        var y = Given([1f], [1, 1], "y", prepare);
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
    private static WorkedExample SigmoidSquaredError(Func<string, Tensor, Tensor>? prepare)
    {
        var w1 = Parameter([0.4f, 0.6f], [1, 2], "W1", prepare);
        var b1 = Parameter([0.1f], [1], "b1", prepare);
        var w2 = Parameter([0.9f], [1, 1], "W2", prepare);
        var b2 = Parameter([0.1f], [1], "b2", prepare);
        var x = Given([0.5f, 0.8f], [1, 2], "x", prepare);
        var y = Given([1f], [1, 1], "y", prepare);
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

    /// <summary>
    /// A network described on the command line (<c>backprop explain --layers 2,3,1 …</c>): layer k computes
    /// z_k = W_k·a_(k−1) + b_k and a_k = f(z_k), with a_0 = x and ŷ the last layer's output; then the loss against y.
    /// </summary>
    public static WorkedExample Custom(WorkedExampleSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var sizes = spec.Sizes;
        if (sizes.Count < 2) throw new ArgumentException("Custom example: give at least two layer sizes (inputs and outputs), e.g. 2,3,1.");
        if (sizes.Any(s => s <= 0)) throw new ArgumentException($"Custom example: layer sizes must be positive; got {string.Join(",", sizes)}.");
        if (spec.Input.Count != sizes[0])
            throw new ArgumentException($"Custom example: the network has {sizes[0]} inputs but the input has {spec.Input.Count} values.");
        if (spec.Target.Count != sizes[^1])
            throw new ArgumentException($"Custom example: the network has {sizes[^1]} outputs but the target has {spec.Target.Count} values.");
        if (spec.Loss == ExampleLoss.BinaryCrossEntropy)
        {
            if (spec.Output != ExampleActivation.Sigmoid)
                throw new ArgumentException("Custom example: binary cross-entropy needs probabilities, so the output activation must be sigmoid.");
            if (spec.Target.Any(t => t is < 0 or > 1))
                throw new ArgumentException("Custom example: binary cross-entropy needs targets in [0, 1].");
        }

        var parameters = new List<Tensor>();
        var generator = new Generator(spec.Seed);
        for (int k = 1; k < sizes.Count; k++)
        {
            int fanIn = sizes[k - 1], units = sizes[k];
            Tensor w, b;
            if (spec.Weights is { } given)
            {
                w = Given(given, $"W{k}", [units, fanIn]);
                b = Given(given, $"b{k}", [units]);
            }
            else
            {
                var layer = new Linear(fanIn, units, generator: generator);
                w = layer.Weight.Detach().Clone();
                b = layer.Bias!.Detach().Clone();
            }
            parameters.Add(Named(w.SetRequiresGrad(), $"W{k}"));
            parameters.Add(Named(b.SetRequiresGrad(), $"b{k}"));
        }

        var x = Named(Tensor.FromArray(spec.Input.ToArray(), 1, sizes[0]), "x");
        var y = Named(Tensor.FromArray(spec.Target.ToArray(), 1, sizes[^1]), "y");
        var forward = new List<Tensor> { x };
        var formulas = new Dictionary<string, string>();
        var previous = x;
        int layers = sizes.Count - 1;
        for (int k = 1; k <= layers; k++)
        {
            bool last = k == layers;
            var activation = last ? spec.Output : spec.Hidden;
            string zName = last && activation == ExampleActivation.Identity ? "ŷ" : $"z{k}";
            var z = Named(Functional.Linear(previous, parameters[2 * k - 2], parameters[2 * k - 1]), zName);
            formulas[zName] = $"W{k}·{previous.Name} + b{k}";
            forward.Add(z);
            previous = z;
            if (activation == ExampleActivation.Identity) continue;
            string aName = last ? "ŷ" : $"a{k}";
            var a = Named(Activate(z, activation), aName);
            formulas[aName] = $"{Symbol(activation)}({zName})";
            forward.Add(a);
            previous = a;
        }
        var yHat = previous;
        forward.Add(y);
        var (loss, lossFormula, lossName) = spec.Loss switch
        {
            ExampleLoss.Mse => (Functional.MseLoss(yHat, y), "mean((ŷ − y)²)", "mean squared error"),
            ExampleLoss.HalfSquaredError => ((yHat - y).Square().Sum() * 0.5, "½Σ(ŷ − y)²", "squared error ½Σ(ŷ − y)²"),
            _ => (Functional.BinaryCrossEntropy(yHat, y), "−mean[y·log ŷ + (1 − y)·log(1 − ŷ)]", "binary cross-entropy"),
        };
        formulas["L"] = lossFormula;
        forward.Add(Named(loss, "L"));
        string hidden = layers > 1 ? $"{Describe(spec.Hidden)} hidden layer{(layers > 2 ? "s" : "")}, " : "";
        var title = $"{string.Join("-", sizes)} network: {hidden}{Describe(spec.Output)} output, {lossName}" +
                    (spec.Weights is null ? $", random weights (seed {spec.Seed})" : ", given weights") +
                    (spec.LearningRate > 0 ? ", one SGD step" : "");
        return new WorkedExample("custom", title, parameters, forward, forward[^1], spec.LearningRate, formulas);
    }

    private static Tensor Given(IReadOnlyDictionary<string, Tensor> weights, string name, int[] shape)
    {
        if (!weights.TryGetValue(name, out var t))
            throw new ArgumentException($"Custom example: the weights have no '{name}' (expected W1, b1, W2, b2, … with W_k of shape [out, in]).");
        if (!t.Sizes.AsSpan().SequenceEqual(shape))
            throw new ShapeMismatchException("explain", $"'{name}' must have shape {Shape.Wrap(shape)} for these layer sizes; the weights give {t.Shape}");
        return t.Detach().To(DType.Float32).Clone();
    }

    private static Tensor Activate(Tensor z, ExampleActivation activation) => activation switch
    {
        ExampleActivation.Relu => z.Relu(),
        ExampleActivation.Sigmoid => z.Sigmoid(),
        ExampleActivation.Tanh => z.Tanh(),
        _ => z,
    };

    private static string Symbol(ExampleActivation activation) => activation switch
    {
        ExampleActivation.Relu => "ReLU",
        ExampleActivation.Sigmoid => "σ",
        ExampleActivation.Tanh => "tanh",
        _ => "",
    };

    private static string Describe(ExampleActivation activation) => activation switch
    {
        ExampleActivation.Relu => "ReLU",
        ExampleActivation.Sigmoid => "sigmoid",
        ExampleActivation.Tanh => "tanh",
        _ => "linear",
    };

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
