using Backprop.Diagnostics;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop explain [a|b]</c>: runs a tutorial's worked example through the engine and prints the forward values
/// and every backward step (from hooks on the real graph), so the chain rule can be followed number by number.
/// </summary>
public static class ExplainCommand
{
    public static int Run(string[] args)
    {
        var options = new CliArguments("explain", args, new HashSet<string>(), new HashSet<string>());
        var key = options.Target(WorkedExample.Keys.ToArray(), "a");
        var example = WorkedExample.Create(key);
        var trace = example.Backward();

        AnsiConsole.MarkupLine($"[bold]Worked example {key}[/]: {Markup.Escape(example.Title)}");
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
