using Backprop.Diagnostics;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop gradcheck</c>: runs the gradient-check tables the test suite runs, one row per case: first
/// derivatives (gradcheck), then second derivatives (gradgradcheck) of every op not declared once-differentiable,
/// then forward mode (the Jacobian from JVPs, and the adjoint identity with the backward). Each table ends with its
/// own <c>N passed, N failed</c> line.
/// </summary>
public static class GradcheckCommand
{
    public static int Run(string[] args)
    {
        var options = new CliArguments("gradcheck", args, new HashSet<string> { "filter", "seed", "order" }, new HashSet<string> { "failures-only" });
        var filter = options.String("filter");
        ulong seed = (ulong)options.Int("seed", 1, min: 0);
        var order = options.String("order");
        if (order is not (null or "1" or "2" or "forward"))
            throw new UsageException($"backprop gradcheck: --order is 1 (first derivatives), 2 (second derivatives) or forward (forward mode); got '{order}'.");
        bool failuresOnly = options.Flag("failures-only");
        bool Matches(GradcheckCase c) => filter is null || c.ToString().Contains(filter, StringComparison.OrdinalIgnoreCase);
        var firstOrder = GradcheckCatalog.All.Where(c => Matches(c.Case)).ToList();
        if (firstOrder.Count == 0) throw new UsageException($"backprop gradcheck: no case matches '{filter}'.");

        bool allPassed = true;
        if (order is null or "1")
        {
            Console.WriteLine("First derivatives (gradcheck): the full Jacobian by backward against central differences");
            allPassed &= RunTable(firstOrder, testCase =>
            {
                var result = Gradcheck.Run(testCase, seed);
                return (result.Passed, result.Inputs.Max(i => i.MaxAbsoluteError), result.Inputs.Max(i => i.MaxRelativeError), result.ToString());
            }, failuresOnly);
        }
        if (order is null or "2")
        {
            var once = GradcheckCatalog.OnceDifferentiable.ToList();
            Console.WriteLine("Second derivatives (gradgradcheck): the Jacobian of the gradient by double backward against central differences of the gradient");
            Console.WriteLine(once.Count == 0
                ? "Every op class is twice differentiable."
                : "Once-differentiable (a second derivative through them throws): " + string.Join("; ", once.Select(o => $"{o.Op.Name}: {o.Reason}")));
            var secondOrder = firstOrder.Where(c => !GradcheckCatalog.IsOnceDifferentiable(c.Op)).ToList();
            if (secondOrder.Count > 0)
                allPassed &= RunTable(secondOrder, testCase =>
                {
                    var result = Gradgradcheck.Run(testCase, seed);
                    var all = result.Inputs.Append(result.GradOutput).ToList();
                    return (result.Passed, all.Max(i => i.MaxAbsoluteError), all.Max(i => i.MaxRelativeError), result.ToString());
                }, failuresOnly);
        }
        if (order is null or "forward")
        {
            Console.WriteLine("Forward mode: the Jacobian by JVPs (one dual pass per input element) against central differences, and <Jv, u> = <v, J^T u> with the backward");
            allPassed &= RunTable(firstOrder, testCase =>
            {
                var result = Gradcheck.RunForward(testCase, seed);
                return (result.Passed, result.Inputs.Max(i => i.MaxAbsoluteError), result.Inputs.Max(i => i.MaxRelativeError), result.ToString());
            }, failuresOnly);
        }
        return allPassed ? 0 : 1;
    }

    /// <summary>Runs each row, prints the table and the <c>N passed, N failed</c> line; true when every row passed.</summary>
    private static bool RunTable(List<(Type Op, GradcheckCase Case)> cases,
        Func<GradcheckCase, (bool Passed, double MaxAbs, double MaxRel, string Detail)> check, bool failuresOnly)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("op").AddColumn("case").AddColumn(new TableColumn("max abs error").RightAligned())
            .AddColumn(new TableColumn("max rel error").RightAligned()).AddColumn("result");
        int passed = 0, failed = 0;
        foreach (var (op, testCase) in cases)
        {
            (bool Passed, double MaxAbs, double MaxRel, string Detail)? result = null;
            string? error = null;
            try { result = check(testCase); }
            catch (Exception e) { error = e.Message; }
            bool ok = result?.Passed == true;
            if (ok) passed++; else failed++;
            if (ok && failuresOnly) continue;
            table.AddRow(
                new Text(op.Name),
                new Text(testCase.ToString()),
                new Text(result is { } r1 ? r1.MaxAbs.ToString("E2") : "—"),
                new Text(result is { } r2 ? r2.MaxRel.ToString("E2") : "—"),
                ok ? new Markup("[green]pass[/]") : new Text("FAIL " + (error ?? result!.Value.Detail), new Style(Color.Red)));
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0;
    }
}
