using System.Text;

namespace Backprop.Nn;

/// <summary>A state dict does not fit a module. The message lists every problem at once, so one run shows all of them.</summary>
public sealed class StateDictMismatchException(
    string module,
    IReadOnlyList<string> missingKeys,
    IReadOnlyList<string> unexpectedKeys,
    IReadOnlyList<StateDictShapeMismatch> shapeMismatches)
    : InvalidOperationException(Format(module, missingKeys, unexpectedKeys, shapeMismatches))
{
    /// <summary>Keys of the module's parameters and buffers that the state dict lacks.</summary>
    public IReadOnlyList<string> MissingKeys { get; } = missingKeys;

    /// <summary>Keys of the state dict that name nothing in the module.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; } = unexpectedKeys;

    public IReadOnlyList<StateDictShapeMismatch> ShapeMismatches { get; } = shapeMismatches;

    private static string Format(string module, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<StateDictShapeMismatch> misShaped)
    {
        var sb = new StringBuilder($"LoadStateDict: the state dict does not fit {module}; nothing was loaded.");
        if (missing.Count > 0) sb.Append($"\n  Missing keys ({missing.Count}): ").AppendJoin(", ", missing);
        if (unexpected.Count > 0) sb.Append($"\n  Unexpected keys ({unexpected.Count}): ").AppendJoin(", ", unexpected);
        if (misShaped.Count > 0) sb.Append($"\n  Mis-shaped keys ({misShaped.Count}): ").AppendJoin(", ", misShaped);
        return sb.ToString();
    }
}
