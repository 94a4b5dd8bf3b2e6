using System.Globalization;
using System.Text.Json.Nodes;
using Backprop.Cli.Plotting;
using Backprop.Diagnostics;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// Prints a <see cref="GradientFlowReport"/> as a table with its findings, writes the PNG of per-layer gradient norms over
/// the steps, and turns a report into JSON. Shared by <c>backprop diagnose</c> and <c>backprop train --diagnose</c>.
/// </summary>
public static class DiagnoseOutput
{
    /// <summary>One row per layer (δ rms, median and last ‖∂L/∂θ‖, last mean/std/zeros, dead units), then the findings.</summary>
    public static void Print(GradientFlowReport report, string? title = null)
    {
        var table = new Table().Title(title ?? $"Gradient flow over {report.Steps} steps")
            .AddColumn("layer").AddColumn(new TableColumn("δ rms (median)").RightAligned())
            .AddColumn(new TableColumn("‖∂L/∂θ‖ median").RightAligned()).AddColumn(new TableColumn("‖∂L/∂θ‖ last").RightAligned())
            .AddColumn(new TableColumn("mean").RightAligned()).AddColumn(new TableColumn("std").RightAligned())
            .AddColumn(new TableColumn("zero %").RightAligned()).AddColumn(new TableColumn("dead ReLU %").RightAligned());
        foreach (var l in report.Layers)
            table.AddRow(
                new Text(l.Label),
                new Text(l.OutputGradientRms.Any(v => !double.IsNaN(v)) ? F(l.MedianOutputGradientRms) : ""),
                new Text(l.HasParameters ? F(l.MedianNorm) : ""),
                new Text(l.HasParameters ? F(l.LastNorm) : ""),
                new Text(l.Last is { } s ? F(s.Mean) : ""),
                new Text(l.Last is { } t ? F(t.Std) : ""),
                new Text(l.Last is { } z ? Percent(z.ZeroFraction) : ""),
                new Text(l.DeadUnitFraction is { } d ? Percent(d) : ""));
        AnsiConsole.Write(table);
        PrintFindings(report);
    }

    /// <summary>
    /// The end of a monitored training run (<c>backprop train … --diagnose</c>): the per-layer report and findings, and,
    /// when <paramref name="pngPath"/> is given, the chart of per-layer gradient norms over the steps.
    /// </summary>
    public static void Finish(GradientFlowMonitor monitor, string? pngPath = null, string? title = null)
    {
        var report = monitor.Report();
        Print(report, title);
        if (pngPath is null) return;
        WriteChart(pngPath, report, title ?? "Gradient norm per layer");
        Console.WriteLine($"wrote {Path.GetFullPath(pngPath)}");
    }

    public static void PrintFindings(GradientFlowReport report)
    {
        if (report.Findings.Count == 0) AnsiConsole.MarkupLine("[green]No problems found.[/]");
        foreach (var finding in report.Findings)
        {
            int colon = finding.IndexOf(':');
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(finding[..colon])}[/]{Markup.Escape(finding[colon..])}");
        }
    }

    /// <summary>A PNG of each layer's gradient norm against the step (log scale), cut where a run diverged.</summary>
    public static void WriteChart(string path, GradientFlowReport report, string title)
    {
        var series = report.Layers.Where(l => l.HasParameters)
            .Select(l => (l.Label, (IReadOnlyList<double>)l.Norms.TakeWhile(double.IsFinite).ToList()))
            .Where(s => s.Item2.Count > 0);
        Charts.Lines(path, title, "step", "‖∂L/∂θ‖ per layer", series, logY: true);
    }

    /// <summary>The flags and figures of a report (non-finite numbers as null).</summary>
    public static JsonObject Json(GradientFlowReport report, IReadOnlyList<double>? losses = null)
    {
        var json = new JsonObject
        {
            ["vanishing"] = report.Vanishing,
            ["exploding"] = report.Exploding,
            ["nonFinite"] = report.NonFinite,
            ["deadUnits"] = report.DeadUnits,
            ["accumulating"] = report.Accumulating,
            ["steps"] = report.Steps,
            ["firstToLastRatio"] = Number(report.FirstToLastRatio),
            ["maxNorm"] = Number(report.MaxNorm),
            ["growthFactor"] = Number(report.GrowthFactor),
            ["layers"] = new JsonArray(report.Layers.Where(l => l.HasParameters).Select(l => (JsonNode)new JsonObject
            {
                ["name"] = l.Label,
                ["medianNorm"] = Number(l.MedianNorm),
                ["deltaRms"] = Number(l.MedianOutputGradientRms),
            }).ToArray()),
        };
        if (losses is { Count: > 0 })
        {
            json["firstLoss"] = Number(losses[0]);
            json["lastLoss"] = Number(losses[^1]);
        }
        return json;
    }

    /// <summary>
    /// The through-time verdict of one run: whether the gradient vanished through time, ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖, the horizon
    /// (steps back from the last over which the gradient stays above the threshold times the last step's), the threshold,
    /// ‖∂L/∂h_t‖ for every t, and the first and last loss.
    /// </summary>
    public static JsonObject ThroughTimeJson(DiagnoseRun run, TimeStepGradientFlow flow)
    {
        double threshold = run.Report.Options.VanishingThroughTimeRatio;
        return new JsonObject
        {
            ["vanishing"] = run.Report.VanishingThroughTime,
            ["firstToLastRatio"] = Number(flow.FirstToLastRatio),
            ["threshold"] = threshold,
            ["horizon"] = flow.Horizon(threshold),
            ["length"] = flow.Norms.Count,
            ["passes"] = flow.Passes.Count,
            ["norms"] = new JsonArray(flow.Norms.Select(n => Number(n)).ToArray()),
            ["firstLoss"] = Number(run.Losses[0]),
            ["lastLoss"] = Number(run.Losses[^1]),
        };
    }

    private static JsonNode? Number(double? value) => value is { } v && double.IsFinite(v) ? JsonValue.Create(v) : null;

    public static string F(double value) => GradientFlowReport.Format(value);

    private static string Percent(double fraction) => (100 * fraction).ToString("F1", CultureInfo.InvariantCulture);
}
