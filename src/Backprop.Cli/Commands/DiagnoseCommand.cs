using System.Globalization;
using System.Text.Json.Nodes;
using Backprop.Cli.Plotting;
using Backprop.Diagnostics;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop diagnose vanishing|exploding|through-time|overhead|memory</c>: the classic gradient failures, trained for
/// real and caught by the gradient-flow monitor, side by side with the fix; the measured cost of the non-finite checks;
/// and the memory held for backward with gradient checkpointing and mixed precision.
/// </summary>
public static class DiagnoseCommand
{
    private static readonly string[] Targets = ["vanishing", "exploding", "through-time", "overhead", "memory"];

    public static int Run(string[] args)
    {
        var options = new CliArguments("diagnose", args, new HashSet<string> { "steps", "seed", "png", "rounds", "threads", "length", "hidden" }, new HashSet<string> { "json" });
        var target = options.Target(Targets, null);
        return target switch
        {
            "vanishing" => Vanishing(options),
            "exploding" => Exploding(options),
            "through-time" => ThroughTime(options),
            "memory" => Memory(options),
            _ => Overhead(options),
        };
    }

    private static int Vanishing(CliArguments options)
    {
        var (sigmoid, relu) = DiagnoseDemos.Vanishing(options.Int("steps", 60, min: 1), (ulong)options.Int("seed", 0, min: 0));
        AnsiConsole.MarkupLine($"[bold]Vanishing gradients[/]: a {DiagnoseDemos.Depth}-layer MLP (width 32) on two moons, with sigmoid and with ReLU, " +
                               $"same He-initialised weights, {sigmoid.Report.Steps} SGD steps");
        SideBySide(sigmoid, relu);
        Finish(options, sigmoid, relu);
        return 0;
    }

    private static int Exploding(CliArguments options)
    {
        var (unclipped, clipped) = DiagnoseDemos.Exploding(options.Int("steps", 40, min: 1), (ulong)options.Int("seed", 0, min: 0));
        AnsiConsole.MarkupLine("[bold]Exploding gradients[/]: a 4-layer ReLU MLP regressing unscaled targets (variance ≈ 85) with SGD at lr 0.05, " +
                               "without clipping and with ClipGradNorm(5) before each step");
        SideBySide(unclipped, clipped);
        var steps = new Table().Title("Total gradient norm (before clipping) and loss by step")
            .AddColumn("step").AddColumn(new TableColumn($"{unclipped.Name} ‖g‖").RightAligned()).AddColumn(new TableColumn($"{unclipped.Name} loss").RightAligned())
            .AddColumn(new TableColumn($"{clipped.Name} ‖g‖").RightAligned()).AddColumn(new TableColumn($"{clipped.Name} loss").RightAligned());
        int count = Math.Max(unclipped.Report.Steps, clipped.Report.Steps);
        string At(IReadOnlyList<double> values, int i) => i < values.Count ? DiagnoseOutput.F(values[i]) : "";
        for (int i = 0; i < count; i++)
            if (i < 5 || i % 5 == 4 || i == unclipped.Report.Steps - 1 || i == count - 1)
                steps.AddRow((i + 1).ToString(), At(unclipped.Report.TotalNorms, i), At(unclipped.Losses, i), At(clipped.Report.TotalNorms, i), At(clipped.Losses, i));
        AnsiConsole.Write(steps);
        Finish(options, unclipped, clipped);
        return 0;
    }

    private static int ThroughTime(CliArguments options)
    {
        if (options.String("threads") is not null) Backends.Cpu.CpuBackend.ThreadCount = options.Int("threads", 1, min: 1);
        int length = options.Int("length", 50, min: 2), hidden = options.Int("hidden", 16, min: 1);
        var (rnn, lstm) = DiagnoseDemos.ThroughTime(options.Int("steps", 600, min: 1), length, hidden, (ulong)options.Int("seed", 0, min: 0));
        var rnnFlow = rnn.Report.ThroughTime.Single();
        var lstmFlow = lstm.Report.ThroughTime.Single();
        AnsiConsole.MarkupLine($"[bold]Gradients through time[/]: the adding problem over {length} steps (loss on the last step only), a tanh RNN and an LSTM " +
                               $"of {hidden} units, {rnn.Losses.Count} Adam steps each; ‖∂L/∂h_t‖ is the gradient reaching the hidden state at step t, " +
                               $"median over the last {Math.Min(rnnFlow.RecentPasses, rnnFlow.Passes.Count)} backward passes");
        var table = new Table().Title("‖∂L/∂h_t‖ by time step")
            .AddColumn(new TableColumn("t").RightAligned())
            .AddColumn(new TableColumn($"{rnn.Name} ‖∂L/∂h_t‖").RightAligned()).AddColumn(new TableColumn($"{lstm.Name} ‖∂L/∂h_t‖").RightAligned());
        foreach (int t in GradientFlowReport.TimeRows(Math.Min(rnnFlow.Norms.Count, lstmFlow.Norms.Count)))
            table.AddRow((t + 1).ToString(CultureInfo.InvariantCulture), DiagnoseOutput.F(rnnFlow.Norms[t]), DiagnoseOutput.F(lstmFlow.Norms[t]));
        AnsiConsole.Write(table);
        double threshold = rnn.Report.Options.VanishingThroughTimeRatio;
        foreach (var (run, flow) in new[] { (rnn, rnnFlow), (lstm, lstmFlow) })
        {
            AnsiConsole.MarkupLine($"[bold]{run.Name}[/]: vanishing through time {Flag(run.Report.VanishingThroughTime)}; ‖∂L/∂h_1‖ / ‖∂L/∂h_{flow.Norms.Count}‖ = " +
                                   $"{DiagnoseOutput.F(flow.FirstToLastRatio)} (threshold {DiagnoseOutput.F(threshold)}), above {DiagnoseOutput.F(threshold)} × the last step's " +
                                   $"for the last {flow.Horizon(threshold)} of {flow.Norms.Count} steps; loss {DiagnoseOutput.F(run.Losses[0])} → {DiagnoseOutput.F(run.Losses[^1])}");
            DiagnoseOutput.PrintFindings(run.Report);
        }
        if (options.String("png") is { } png)
        {
            Charts.Lines(png, $"Gradient through time, adding problem T = {length}", "time step t", "‖∂L/∂h_t‖",
                [(rnn.Name, rnnFlow.Norms), (lstm.Name, lstmFlow.Norms)], logY: true);
            Console.WriteLine($"wrote {Path.GetFullPath(png)}");
        }
        if (options.Flag("json"))
            Console.WriteLine(new JsonObject { [rnn.Name] = DiagnoseOutput.ThroughTimeJson(rnn, rnnFlow), [lstm.Name] = DiagnoseOutput.ThroughTimeJson(lstm, lstmFlow) }
                .ToJsonString());
        return 0;
    }

    /// <summary>Per-layer median gradient norms of two runs of the same architecture, then each run's verdict.</summary>
    private static void SideBySide(DiagnoseRun a, DiagnoseRun b)
    {
        var table = new Table().Title("Per-layer gradients (median over steps): δ = ∂L/∂(layer output), rms; ‖∂L/∂θ‖ = norm of the layer's parameter gradient")
            .AddColumn("layer")
            .AddColumn(new TableColumn($"{a.Name} δ").RightAligned()).AddColumn(new TableColumn($"{a.Name} ‖∂L/∂θ‖").RightAligned())
            .AddColumn(new TableColumn($"{b.Name} δ").RightAligned()).AddColumn(new TableColumn($"{b.Name} ‖∂L/∂θ‖").RightAligned());
        var layersA = a.Report.Layers.Where(l => l.HasParameters).ToList();
        var layersB = b.Report.Layers.Where(l => l.HasParameters).ToList();
        for (int i = 0; i < Math.Min(layersA.Count, layersB.Count); i++)
            table.AddRow(layersA[i].Label, DiagnoseOutput.F(layersA[i].MedianOutputGradientRms), DiagnoseOutput.F(layersA[i].MedianNorm),
                DiagnoseOutput.F(layersB[i].MedianOutputGradientRms), DiagnoseOutput.F(layersB[i].MedianNorm));
        AnsiConsole.Write(table);
        foreach (var run in new[] { a, b })
        {
            var r = run.Report;
            AnsiConsole.MarkupLine($"[bold]{run.Name}[/]: vanishing {Flag(r.Vanishing)}, exploding {Flag(r.Exploding)}, dead units {Flag(r.DeadUnits)}; " +
                                   $"first/last layer δ ratio {DiagnoseOutput.F(r.FirstToLastRatio ?? double.NaN)}, max ‖g‖ {DiagnoseOutput.F(r.MaxNorm)}, " +
                                   $"loss {DiagnoseOutput.F(run.Losses[0])} → {DiagnoseOutput.F(run.Losses[^1])} over {run.Losses.Count} steps");
            DiagnoseOutput.PrintFindings(r);
        }
    }

    private static string Flag(bool raised) => raised ? "[red]yes[/]" : "[green]no[/]";

    private static void Finish(CliArguments options, DiagnoseRun a, DiagnoseRun b)
    {
        if (options.String("png") is { } png)
        {
            foreach (var run in new[] { a, b })
            {
                var path = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(png))!, $"{Path.GetFileNameWithoutExtension(png)}-{run.Name}.png");
                DiagnoseOutput.WriteChart(path, run.Report, $"{run.Name}: gradient norm per layer");
                Console.WriteLine($"wrote {path}");
            }
        }
        if (options.Flag("json"))
            Console.WriteLine(new JsonObject { [a.Name] = DiagnoseOutput.Json(a.Report, a.Losses), [b.Name] = DiagnoseOutput.Json(b.Report, b.Losses) }
                .ToJsonString());
    }

    private static int Overhead(CliArguments options)
    {
        int rounds = options.Int("rounds", 15, min: 1);
        if (options.String("threads") is not null) Backends.Cpu.CpuBackend.ThreadCount = options.Int("threads", 1, min: 1);
        AnsiConsole.MarkupLine("Timing the mlp step (784-256-128-10, batch 128, cross-entropy, SGD lr 0.01) with no checks, under Autograd.DetectNonFinite() " +
                               $"and under Autograd.DetectAnomaly(): {rounds} interleaved rounds of 10 steps after warm-up, {Backends.Cpu.CpuBackend.ThreadCount} thread(s).");
        var times = DiagnoseOverhead.Measure(rounds: rounds);
        var (offMedian, offMin) = times[DiagnoseOverhead.Mode.Off];
        string Ms(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
        string Overhead(double v, double baseline) => ((v / baseline - 1) * 100).ToString("+0.0;-0.0", CultureInfo.InvariantCulture) + " %";
        var table = new Table().AddColumn("mode")
            .AddColumn(new TableColumn("median ms/step").RightAligned()).AddColumn(new TableColumn("overhead").RightAligned())
            .AddColumn(new TableColumn("fastest ms/step").RightAligned()).AddColumn(new TableColumn("overhead").RightAligned());
        foreach (var (mode, (median, min)) in times)
        {
            bool off = mode == DiagnoseOverhead.Mode.Off;
            table.AddRow(mode.ToString(), Ms(median), off ? "" : Overhead(median, offMedian), Ms(min), off ? "" : Overhead(min, offMin));
        }
        AnsiConsole.Write(table);
        if (options.Flag("json"))
            Console.WriteLine(new JsonObject
            {
                ["offMs"] = offMedian,
                ["sentinelMs"] = times[DiagnoseOverhead.Mode.Sentinel].Median,
                ["anomalyMs"] = times[DiagnoseOverhead.Mode.Anomaly].Median,
            }.ToJsonString());
        return 0;
    }

    private static int Memory(CliArguments options)
    {
        int rounds = options.Int("rounds", 9, min: 1);
        if (options.String("threads") is not null) Backends.Cpu.CpuBackend.ThreadCount = options.Int("threads", 1, min: 1);
        AnsiConsole.MarkupLine("Peak bytes held for backward in one training step (SavedMemoryMeter: each saved storage once, parameters not counted) " +
                               $"and the fastest of {rounds} step times (zero, forward, cross-entropy, backward, SGD), {Backends.Cpu.CpuBackend.ThreadCount} thread(s).");
        AnsiConsole.MarkupLine($"Half-precision kernels: {Markup.Escape(Autocast.KernelPath)}.");
        var json = new JsonArray();
        foreach (var (title, rows) in new[] { ("Gradient checkpointing", DiagnoseMemory.Checkpointing(rounds)), ("Mixed precision", DiagnoseMemory.MixedPrecision(rounds)) })
        {
            var table = new Table().Title(title).AddColumn("workload").AddColumn("variant")
                .AddColumn(new TableColumn("peak saved").RightAligned()).AddColumn(new TableColumn("vs first").RightAligned())
                .AddColumn(new TableColumn("ms/step").RightAligned()).AddColumn(new TableColumn("vs first").RightAligned());
            DiagnoseMemory.Row? first = null;
            foreach (var row in rows)
            {
                if (first is null || first.Workload != row.Workload) first = row;
                table.AddRow(row.Workload, row.Variant, SavedTensorReport.FormatBytes(row.PeakBytes),
                    (first.PeakBytes / (double)row.PeakBytes).ToString("F2", CultureInfo.InvariantCulture) + "× smaller",
                    row.MillisecondsPerStep.ToString("F1", CultureInfo.InvariantCulture),
                    (row.MillisecondsPerStep / first.MillisecondsPerStep).ToString("F2", CultureInfo.InvariantCulture) + "×");
                json.Add(new JsonObject { ["workload"] = row.Workload, ["variant"] = row.Variant, ["peakBytes"] = row.PeakBytes, ["msPerStep"] = row.MillisecondsPerStep });
            }
            AnsiConsole.Write(table);
        }
        if (options.Flag("json")) Console.WriteLine(json.ToJsonString());
        return 0;
    }
}
