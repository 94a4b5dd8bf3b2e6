using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Backprop.Diagnostics;
using Backprop.IO;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop explain [a|b|attention]</c>: runs a tutorial's worked example through the engine and prints the forward values
/// and every backward step (from hooks on the real graph), so the chain rule can be followed number by number.
/// <c>backprop explain --layers 2,3,1 --activation sigmoid --input 0.5,0.8 --target 1 [--output …] [--loss mse|half-squared|bce]
/// [--weights FILE] [--seed N] [--lr η]</c> does the same for any small fully connected network.
/// <c>backprop explain forward|hessian [a|b]</c> shows the worked example in forward mode and its loss's Hessian
/// (<see cref="ExplainModesCommand"/>).
/// </summary>
public static class ExplainCommand
{
    private static readonly HashSet<string> CustomOptions = ["layers", "activation", "output", "input", "target", "loss", "weights", "seed", "lr"];

    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0].Equals("attention", StringComparison.OrdinalIgnoreCase)) return ExplainAttention.Run(args[1..]);
        if (args.Length > 0 && args[0] == "forward") return ExplainModesCommand.RunForward(args[1..]);
        if (args.Length > 0 && args[0] == "hessian") return ExplainModesCommand.RunHessian(args[1..]);
        var options = new CliArguments("explain", args, CustomOptions, new HashSet<string>());
        WorkedExample example;
        string heading;
        if (options.String("layers") is null)
        {
            var given = CustomOptions.FirstOrDefault(o => options.String(o) is not null);
            if (given is not null) throw new UsageException($"backprop explain: --{given} describes a custom network; give its sizes with --layers too (e.g. --layers 2,3,1).");
            var key = options.Target(WorkedExample.Keys.ToArray(), "a");
            example = WorkedExample.Create(key);
            heading = $"Worked example {key}";
        }
        else
        {
            if (options.Positional.Count > 0)
                throw new UsageException($"backprop explain: give either a worked example ({string.Join("|", WorkedExample.Keys)}) or --layers, not both.");
            example = Custom(options);
            heading = "Custom network";
        }
        var trace = example.Backward();

        AnsiConsole.MarkupLine($"[bold]{heading}[/]: {Markup.Escape(example.Title)}");
        AnsiConsole.WriteLine();

        var parameters = new Table().Title("Parameters").AddColumn("name").AddColumn("value");
        foreach (var p in example.Parameters) parameters.AddRow(new Text(p.Name!), new Text(TensorText.Format(p)));
        AnsiConsole.Write(parameters);

        var forward = new Table().Title("Forward pass").AddColumn("tensor").AddColumn("computed as").AddColumn("value");
        var byNode = new Dictionary<Node, BackwardStep>(ReferenceEqualityComparer.Instance);
        foreach (var step in trace.Steps) byNode[step.Node] = step;
        foreach (var t in example.Forward)
            forward.AddRow(new Text(t.Name!), new Text(example.Formulas.GetValueOrDefault(t.Name!) ?? Describe(t, byNode)), new Text(TensorText.Format(t)));
        AnsiConsole.Write(forward);

        var backward = new Table().Title("Backward pass: the chain rule from the loss back to the inputs")
            .AddColumn("#").AddColumn("node").AddColumn("local derivative").AddColumn("incoming gradient")
            .AddColumn("δ").AddColumn("∂L/∂W").AddColumn("∂L/∂b");
        foreach (var step in trace.Steps.Where(s => s.Node is not AccumulateGrad))
        {
            // A layer's incoming gradient is its δ = ∂L/∂z; what it sends to W and b are ∂L/∂W = δ·aᵀ and ∂L/∂b = δ.
            bool layer = step.Node.Name == "LinearBackward";
            string Grad(int i) => i < step.GradInputs.Count ? TensorText.Format(step.GradInputs[i]) : "";
            var incoming = TensorText.Format(step.GradOutput);
            if (step.Output?.Name is { } name) incoming = $"∂L/∂{name} = {incoming}";
            backward.AddRow(
                new Text((step.Order + 1).ToString()),
                new Text(step.Node.Name.Replace("Backward", "")),
                new Text(TensorText.Format(step.LocalDerivative)),
                new Text(incoming),
                new Text(layer ? TensorText.Format(step.GradOutput) : ""),
                new Text(layer ? Grad(1) : ""),
                new Text(layer ? Grad(2) : ""));
        }
        AnsiConsole.Write(backward);

        var gradients = new Table().Title("Gradients of the loss").AddColumn("parameter").AddColumn("∂L/∂θ");
        foreach (var p in example.Parameters) gradients.AddRow(new Text(p.Name!), new Text(TensorText.Format(p.Grad)));
        AnsiConsole.Write(gradients);

        if (example.LearningRate > 0)
        {
            var update = new Table().Title($"One SGD step: θ ← θ − η·∂L/∂θ with η = {example.LearningRate}")
                .AddColumn("parameter").AddColumn("before").AddColumn("∂L/∂θ").AddColumn("after");
            foreach (var (before, after) in example.Parameters.Zip(example.SgdStep()))
                update.AddRow(new Text(before.Name!), new Text(TensorText.Format(before)), new Text(TensorText.Format(before.Grad)), new Text(TensorText.Format(after)));
            AnsiConsole.Write(update);
        }
        return 0;
    }

    private static readonly Dictionary<string, ExampleActivation> Activations = new()
    {
        ["identity"] = ExampleActivation.Identity, ["linear"] = ExampleActivation.Identity, ["relu"] = ExampleActivation.Relu,
        ["sigmoid"] = ExampleActivation.Sigmoid, ["tanh"] = ExampleActivation.Tanh,
    };

    private static readonly Dictionary<string, ExampleLoss> Losses = new()
    {
        ["mse"] = ExampleLoss.Mse, ["half-squared"] = ExampleLoss.HalfSquaredError, ["bce"] = ExampleLoss.BinaryCrossEntropy,
    };

    /// <summary>
    /// <c>--layers 2,3,1 --activation sigmoid --input 0.5,0.8 --target 1 [--output sigmoid] [--loss mse|half-squared|bce]
    /// [--weights FILE] [--seed N] [--lr η]</c>.
    /// </summary>
    private static WorkedExample Custom(CliArguments options)
    {
        var sizes = Numbers(options, "layers", s => int.Parse(s, NumberStyles.Integer, CultureInfo.InvariantCulture));
        var loss = options.Choice("loss", ExampleLoss.Mse, Losses);
        var hidden = options.Choice("activation", ExampleActivation.Relu, Activations);
        var output = options.Choice("output", loss == ExampleLoss.BinaryCrossEntropy ? ExampleActivation.Sigmoid : ExampleActivation.Identity, Activations);
        var input = Numbers(options, "input", s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));
        var target = Numbers(options, "target", s => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));
        var weights = options.String("weights") is { } file ? WeightsFile(file) : null;
        var spec = new WorkedExampleSpec(sizes, hidden, output, input, target, loss, weights, (ulong)options.Int("seed", 0, min: 0),
            options.Double("lr", 0, min: 0));
        try
        {
            return WorkedExample.Custom(spec);
        }
        catch (ArgumentException e) // includes ShapeMismatchException: a weight of the wrong shape
        {
            throw new UsageException($"backprop explain: {e.Message}");
        }
    }

    private static T[] Numbers<T>(CliArguments options, string name, Func<string, T> parse)
    {
        var text = options.String(name) ?? throw new UsageException($"backprop explain: a custom network needs --{name} (comma-separated numbers).");
        try
        {
            return text.Split(',', StringSplitOptions.TrimEntries).Select(parse).ToArray();
        }
        catch (FormatException)
        {
            throw new UsageException($"backprop explain: --{name} must be comma-separated numbers; got '{text}'.");
        }
        catch (OverflowException)
        {
            throw new UsageException($"backprop explain: --{name} has a number out of range; got '{text}'.");
        }
    }

    /// <summary>
    /// Weights W1, b1, W2, b2, … from a .safetensors file, or from JSON: <c>{"W1": [[0.4, 0.6]], "b1": [0.1], …}</c>
    /// (W_k as rows of [out][in]).
    /// </summary>
    private static Dictionary<string, Tensor> WeightsFile(string path)
    {
        if (!File.Exists(path)) throw new UsageException($"backprop explain: no weights file '{path}'.");
        if (path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return SafeTensors.Load(path).Tensors.ToDictionary(kv => kv.Key, kv => kv.Value);
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new UsageException($"backprop explain: '{path}' is neither .safetensors nor valid JSON: {e.Message}");
        }
        if (root is not JsonObject entries) throw new UsageException($"backprop explain: '{path}' must hold a JSON object of named weights (\"W1\": [[…]], \"b1\": […]).");
        var result = new Dictionary<string, Tensor>();
        foreach (var (name, node) in entries)
        {
            try
            {
                result[name] = node switch
                {
                    JsonArray rows when rows.Count > 0 && rows.All(r => r is JsonArray) => Matrix(rows),
                    JsonArray values => Tensor.FromArray(values.Select(v => v!.GetValue<float>()).ToArray()),
                    _ => throw new FormatException(),
                };
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException or NullReferenceException)
            {
                throw new UsageException($"backprop explain: weight '{name}' in '{path}' must be an array of numbers or an array of equal-length rows.");
            }
        }
        return result;
    }

    private static Tensor Matrix(JsonArray rows)
    {
        var values = rows.Select(r => ((JsonArray)r!).Select(v => v!.GetValue<float>()).ToArray()).ToArray();
        int width = values[0].Length;
        if (values.Any(r => r.Length != width)) throw new FormatException();
        return Tensor.FromArray(values.SelectMany(r => r).ToArray(), values.Length, width);
    }

    private static string Describe(Tensor t, Dictionary<Node, BackwardStep> steps)
    {
        if (t.GradFn is not { } node) return t.RequiresGrad ? "parameter" : "given";
        var op = node.Name.Replace("Backward", "");
        if (!steps.TryGetValue(node, out var step)) return op;
        var inputs = step.Inputs.Select((input, i) => input?.Name ?? Producer(node, i)).Where(n => n.Length > 0);
        return $"{op}({string.Join(", ", inputs)})";
    }

    private static string Producer(Node node, int i) =>
        node.NextFunctions[i] is { } n ? n.Name.Replace("Backward", "") + "(…)" : "";
}
