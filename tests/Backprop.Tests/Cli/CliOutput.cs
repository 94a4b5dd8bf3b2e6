using System.Text.Json;

namespace Backprop.Tests.Cli;

/// <summary>Reading what a command printed: its lines, and the JSON object <c>--json</c> puts on the last line.</summary>
internal static class CliOutput
{
    public static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>The last line, parsed; fails the test when it is not one JSON object.</summary>
    public static JsonElement LastJson(string output)
    {
        var last = Lines(output)[^1];
        Assert.StartsWith("{", last);
        using var document = JsonDocument.Parse(last);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        return document.RootElement.Clone();
    }

    /// <summary>Asserts a command failed with exactly one line mentioning <paramref name="expected"/>, and no stack trace.</summary>
    public static void AssertOneLineError((int ExitCode, string Output) result, string expected)
    {
        var (code, output) = result;
        Assert.NotEqual(0, code);
        var lines = Lines(output);
        Assert.True(lines.Length == 1, $"expected one line, got:\n{output}");
        Assert.Contains(expected, lines[0]);
        Assert.DoesNotContain("   at ", output);
    }
}
