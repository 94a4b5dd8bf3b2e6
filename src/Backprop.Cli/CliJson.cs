using System.Text.Json;

namespace Backprop.Cli;

/// <summary>What the commands' <c>--json</c> lines have in common.</summary>
public static class CliJson
{
    /// <summary>Writes <paramref name="value"/>, or null when it is NaN or infinite (a diverged loss), which JSON cannot hold.</summary>
    public static void WriteFiniteNumber(this Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value)) json.WriteNumber(name, value);
        else json.WriteNull(name);
    }
}
