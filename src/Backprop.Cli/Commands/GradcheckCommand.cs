using Backprop.Diagnostics;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary><c>backprop gradcheck</c>: runs the gradient-check table the test suite runs, one row per case.</summary>
public static class GradcheckCommand
{
    public static int Run(string[] args)
    {
        var options = new CliArguments("gradcheck", args, new HashSet<string> { "filter", "seed" }, new HashSet<string> { "failures-only" });
        var filter = options.String("filter");
        ulong seed = (ulong)options.Int("seed", 1, min: 0);
        var cases = GradcheckCatalog.All
            .Where(c => filter is null || c.Case.ToString().Contains(filter, StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (cases.Count == 0) throw new UsageException($"backprop gradcheck: no case matches '{filter}'.");

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("op").AddColumn("case").AddColumn(new TableColumn("max abs error").RightAligned())
            .AddColumn(new TableColumn("max rel error").RightAligned()).AddColumn("result");
        int passed = 0, failed = 0;
        foreach (var (op, testCase) in cases)
        {
            GradcheckResult? result = null;
            string? error = null;
            try { result = Gradcheck.Run(testCase, seed); }
            catch (Exception e) { error = e.Message; }
            bool ok = result?.Passed == true;
            if (ok) passed++; else failed++;
            if (ok && options.Flag("failures-only")) continue;
            table.AddRow(
                new Text(op.Name),
                new Text(testCase.ToString()),
                new Text(result is null ? "—" : result.Inputs.Max(i => i.MaxAbsoluteError).ToString("E2")),
                new Text(result is null ? "—" : result.Inputs.Max(i => i.MaxRelativeError).ToString("E2")),
                ok ? new Markup("[green]pass[/]") : new Text("FAIL " + (error ?? result!.ToString()), new Style(Color.Red)));
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }
}
