using System.Diagnostics;
using Backprop.Diagnostics;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop graph xor|mlp|cnn [--mermaid] [--png FILE] [--memory]</c>: runs one batch through a model, backward with
/// the gradient norms recorded, and prints the graph as Graphviz DOT (or Mermaid): one box per op with its output shape,
/// module and the norm of the gradient it received, one ellipse per parameter with its gradient's norm. <c>--png</c>
/// renders it with Graphviz's <c>dot</c>; <c>--memory</c> adds the bytes each node keeps for backward, per node and
/// per layer.
/// </summary>
public static class GraphCommand
{
    public static int Run(string[] args)
    {
        var options = new CliArguments("graph", args, new HashSet<string> { "png", "dot" }, new HashSet<string> { "mermaid", "memory" });
        var name = options.Target(GraphModels.All.Keys.ToArray(), null);
        var entry = GraphModels.All[name];
        if (entry.Build is null)
        {
            Console.Error.WriteLine($"backprop graph {name}: not available yet: {entry.Unavailable}");
            return 1;
        }
        var sample = entry.Build();
        bool memory = options.Flag("memory");
        SavedTensorReport? saved = memory ? SavedTensorReport.Of(sample.Loss) : null;

        using var recorder = GradientNormRecorder.Attach(sample.Loss);
        // Retained so the saved tensors are still there to label after backward.
        sample.Loss.Backward(retainGraph: memory);
        var exportOptions = new GraphExportOptions { LeafNames = sample.LeafNames, GradientNorms = recorder.Norms, ShowSavedBytes = memory };
        var dot = GraphExport.ToDot(sample.Loss, exportOptions);

        int code = 0;
        if (options.String("png") is { } png)
        {
            var program = options.String("dot") ?? FindOnPath("dot");
            if (program is null || !File.Exists(program))
            {
                Console.WriteLine(options.Flag("mermaid") ? GraphExport.ToMermaid(sample.Loss, exportOptions) : dot);
                Console.Error.WriteLine(
                    $"backprop graph: Graphviz's 'dot' program {(program is null ? "was not found on PATH" : $"was not found at {program}")}, so no PNG was written. " +
                    "Install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; Fedora: sudo dnf install graphviz; macOS: brew install graphviz; " +
                    "Windows: winget install graphviz) and run again, or paste the DOT text above into any Graphviz viewer.");
                code = 1;
            }
            else
            {
                Render(program, dot, png);
                Console.WriteLine($"wrote {Path.GetFullPath(png)}");
            }
        }
        else Console.WriteLine(options.Flag("mermaid") ? GraphExport.ToMermaid(sample.Loss, exportOptions) : dot);

        if (saved is not null) PrintMemory(sample, saved);
        return code;
    }

    private static void Render(string program, string dot, string png)
    {
        var start = new ProcessStartInfo(program, ["-Tpng", "-o", png]) { RedirectStandardInput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}.");
        process.StandardInput.Write(dot);
        process.StandardInput.Close();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{program} failed (exit code {process.ExitCode}): {errors.Trim()}");
    }

    private static string? FindOnPath(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (var candidate in OperatingSystem.IsWindows() ? new[] { program + ".exe" } : [program])
            {
                var path = Path.Combine(dir, candidate);
                if (File.Exists(path)) return path;
            }
        return null;
    }

    private static void PrintMemory(GraphSample sample, SavedTensorReport report)
    {
        var nodes = new Table().Title($"Tensors saved for backward by the {sample.Title} graph, per node")
            .AddColumn("node").AddColumn("module").AddColumn("saved shapes").AddColumn(new TableColumn("bytes").RightAligned());
        foreach (var e in report.Entries)
            nodes.AddRow(new Text(e.Node.Name), new Text(e.Module ?? ""), new Text(string.Join(", ", e.Shapes)), new Text(SavedTensorReport.FormatBytes(e.Bytes)));
        AnsiConsole.Write(nodes);
        var layers = new Table().Title("Per layer (a storage saved by two nodes counts in each; the total counts it once)")
            .AddColumn("layer").AddColumn(new TableColumn("bytes").RightAligned());
        foreach (var (module, bytes) in report.ByModule) layers.AddRow(new Text(module), new Text(SavedTensorReport.FormatBytes(bytes)));
        layers.AddRow(new Text("total"), new Text(SavedTensorReport.FormatBytes(report.TotalBytes)));
        AnsiConsole.Write(layers);
    }
}
