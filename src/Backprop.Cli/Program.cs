using Backprop.Cli.Commands;
using Spectre.Console;

namespace Backprop.Cli;

public static class Program
{
    private static readonly Dictionary<string, (string Summary, Func<string[], int> Run)> Commands = new()
    {
        ["gradcheck"] = ("check every op's first and second derivatives and its forward mode against finite differences", GradcheckCommand.Run),
        ["explain"] = ("show backpropagation step by step on a worked example (a, b, a custom network, attention, forward mode, the Hessian)", ExplainCommand.Run),
        ["bench"] = ("time the benchmark workloads (gemm, mlp, xor, cnn, lstm, attention; mnist by name)", BenchCommand.Run),
        ["train"] = ("train a classifier on xor, moons, spiral, circles or mnist, an LSTM/GRU/RNN on the adding problem (train adding) or a character language model (train text); --out DIR saves it, --resume continues; stops at the first NaN gradient unless --no-nan-check", TrainCommand.Run),
        ["generate"] = ("continue a prompt with a character model saved by `train text --out DIR`; --attention-png draws a transformer's attention", GenerateCommand.Run),
        ["export"] = ("write a saved model as an ONNX file (opset 17) for ONNX Runtime", ExportCommand.Run),
        ["predict"] = ("classify an IDX images file or a CSV of features with a saved model", PredictCommand.Run),
        ["graph"] = ("print a model's backward graph as Graphviz DOT or Mermaid, with gradient norms and saved memory", GraphCommand.Run),
        ["diagnose"] = ("show vanishing (across layers or through time) or exploding gradients caught by the gradient-flow monitor; `diagnose memory`: bytes held for backward with checkpointing and mixed precision", DiagnoseCommand.Run),
    };

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            PrintHelp();
            return args.Length == 0 ? 2 : 0;
        }
        if (!Commands.TryGetValue(args[0], out var command))
        {
            Console.Error.WriteLine($"backprop: unknown command '{args[0]}'. Commands: {string.Join(", ", Commands.Keys)}.");
            return 2;
        }
        // Piped output would otherwise be squeezed into 80 columns.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 160;
        try
        {
            return command.Run(args[1..]);
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine(e.Message);
            return 2;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("BACKPROP_TRACE") is null)
        {
            // One clear line, never a stack trace (set BACKPROP_TRACE=1 to see it).
            Console.Error.WriteLine($"backprop {args[0]}: {e.Message}");
            return 1;
        }
    }

    private static void PrintHelp()
    {
        AnsiConsole.MarkupLine("[bold]backprop[/] — a deep-learning library for .NET, and its tools");
        AnsiConsole.WriteLine();
        var table = new Table().NoBorder().HideHeaders().AddColumn("command").AddColumn("what");
        foreach (var (name, (summary, _)) in Commands) table.AddRow(new Text("  backprop " + name), new Text(summary));
        AnsiConsole.Write(table);
    }
}
