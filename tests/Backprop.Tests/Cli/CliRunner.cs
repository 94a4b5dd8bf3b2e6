using Spectre.Console;

namespace Backprop.Tests.Cli;

[CollectionDefinition(nameof(CliRunner), DisableParallelization = true)]
public sealed class CliCollection;

/// <summary>Runs the backprop command in-process and captures what it prints (standard output and error together).</summary>
public static class CliRunner
{
    public static (int ExitCode, string Output) Run(params string[] args)
    {
        var writer = new StringWriter();
        var previousOut = Console.Out;
        var previousError = Console.Error;
        var previousConsole = AnsiConsole.Console;
        try
        {
            Console.SetOut(writer);
            Console.SetError(writer);
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Out = new AnsiConsoleOutput(writer),
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
            });
            AnsiConsole.Profile.Width = 200;
            int code = Backprop.Cli.Program.Main(args);
            return (code, writer.ToString());
        }
        finally
        {
            Console.SetOut(previousOut);
            Console.SetError(previousError);
            AnsiConsole.Console = previousConsole;
        }
    }
}
