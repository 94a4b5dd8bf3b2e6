using Backprop.Diagnostics;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop explain forward [a|b]</c>: the worked example in forward mode, one pass per input element with that
/// element's basis tangent, every value printed with its tangents, and the Jacobian's loss row read both ways.
/// <c>backprop explain hessian [a|b]</c>: the Hessian of the worked example's loss with respect to its parameters.
/// </summary>
public static class ExplainModesCommand
{
    public static int RunForward(string[] args)
    {
        var options = new CliArguments("explain forward", args, new HashSet<string>(), new HashSet<string>());
        var key = options.Target(WorkedExample.Keys.ToArray(), "a");
        var explanation = WorkedExample.ExplainForward(key);
        int n = explanation.Rows[0].Value.NumElements;

        AnsiConsole.MarkupLine($"[bold]Worked example {key} in forward mode[/]: {Markup.Escape(explanation.Title)}");
        AnsiConsole.WriteLine($"Each forward pass carries a tangent ẋ with x: pass i uses the basis vector eᵢ, so every value's tangent is its derivative ∂/∂xᵢ.");
        AnsiConsole.WriteLine();

        var table = new Table().Title($"Values and tangents ({n} forward passes, one per input)").AddColumn("tensor").AddColumn("computed as").AddColumn("value");
        for (int i = 0; i < n; i++) table.AddColumn($"tangent, ẋ = e{i + 1} (∂/∂x{i + 1})");
        foreach (var row in explanation.Rows)
        {
            var cells = new List<Text> { new(row.Name), new(row.Formula ?? (row.Name == "x" ? "input" : "given")), new(TensorText.Format(row.Value)) };
            cells.AddRange(row.Tangents.Select(t => new Text(TensorText.Format(t))));
            table.AddRow(cells);
        }
        AnsiConsole.Write(table);

        var forwardRow = explanation.LossRowByForwardMode;
        var reverseRow = explanation.LossRowByReverseMode.ToArray<float>();
        AnsiConsole.WriteLine();
        AnsiConsole.WriteLine($"Forward mode: each pass gave one column of the Jacobian of every value with respect to x; the loss's entry in pass i is ∂L/∂xᵢ.");
        AnsiConsole.WriteLine($"  ∂L/∂x from {n} forward passes: [{string.Join(", ", forwardRow.Select(v => TensorText.Number(v)))}]");
        AnsiConsole.WriteLine($"Reverse mode: one backward pass from L gives the whole row ∂L/∂x at once.");
        AnsiConsole.WriteLine($"  ∂L/∂x from 1 backward pass:  [{string.Join(", ", reverseRow.Select(v => TensorText.Number(v)))}]");
        double gap = forwardRow.Zip(reverseRow, (f, r) => Math.Abs(f - r)).Max();
        AnsiConsole.WriteLine($"  largest difference: {gap:E1}");
        AnsiConsole.WriteLine("For a function of n inputs and m outputs, forward mode needs n passes and reverse mode m: a loss (m = 1) is reverse mode's case.");
        return 0;
    }

    public static int RunHessian(string[] args)
    {
        var options = new CliArguments("explain hessian", args, new HashSet<string>(), new HashSet<string>());
        var key = options.Target(WorkedExample.Keys.ToArray(), "a");
        var explanation = WorkedExample.ExplainHessian(key);
        int n = explanation.Names.Count;

        AnsiConsole.MarkupLine($"[bold]Hessian of worked example {key}'s loss[/]: {Markup.Escape(explanation.Title)}");
        AnsiConsole.WriteLine($"∂²L/∂θ² over the {n} parameter values θ, by forward-over-reverse: one forward pass with tangent eᵢ through the gradient computation per column.");
        AnsiConsole.WriteLine();

        var hessian = explanation.Hessian.ToArray<double>();
        var gradient = explanation.Gradient.ToArray<double>();
        var table = new Table().Title("Hessian ∂²L/∂θᵢ∂θⱼ").AddColumn("θ").AddColumn("∂L/∂θ");
        foreach (var name in explanation.Names) table.AddColumn(Markup.Escape(name));
        for (int i = 0; i < n; i++)
        {
            var cells = new List<Text> { new(explanation.Names[i]), new(TensorText.Number(gradient[i])) };
            for (int j = 0; j < n; j++) cells.Add(new Text(TensorText.Number(hessian[i * n + j])));
            table.AddRow(cells);
        }
        AnsiConsole.Write(table);

        double asymmetry = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++) asymmetry = Math.Max(asymmetry, Math.Abs(hessian[i * n + j] - hessian[j * n + i]));
        var eigenvalues = explanation.Eigenvalues.ToArray<double>();
        AnsiConsole.WriteLine();
        AnsiConsole.WriteLine($"Symmetric: largest |H[i,j] − H[j,i]| = {asymmetry:E1}.");
        AnsiConsole.WriteLine($"Eigenvalues: [{string.Join(", ", eigenvalues.Select(v => TensorText.Number(v)))}]");
        int negative = eigenvalues.Count(v => v < -1e-12), zero = eigenvalues.Count(v => Math.Abs(v) <= 1e-12);
        AnsiConsole.WriteLine($"{negative} negative, {zero} zero, {n - negative - zero} positive.");
        if (zero > 0) AnsiConsole.WriteLine("A zero eigenvalue: the loss is flat to second order along that direction.");
        AnsiConsole.WriteLine(negative > 0
            ? "A negative eigenvalue: the loss curves downward along that direction, so a plain Newton step need not descend (a damped Newton step adds λI first)."
            : "No negative eigenvalue: the loss is locally convex here, and a Newton step θ − H⁻¹∇L heads for the minimum of its quadratic model.");
        return 0;
    }
}
