using System.Diagnostics;

namespace Backprop;

/// <summary>
/// Where a node's forward op ran: the module it ran inside (cheap, recorded whenever a module is running) and,
/// in anomaly mode only, the full stack trace (costly, so off by default).
/// </summary>
internal sealed class NodeOrigin(string? modulePath, StackTrace? stack)
{
    [ThreadStatic] private static string? t_modulePath;

    public string? ModulePath { get; } = modulePath;

    public StackTrace? Stack { get; } = stack;

    public static NodeOrigin? Capture()
    {
        bool anomaly = Autograd.IsAnomalyEnabled;
        if (!anomaly && t_modulePath is null) return null;
        return new NodeOrigin(t_modulePath, anomaly ? new StackTrace(2, fNeedFileInfo: true) : null);
    }

    /// <summary>Marks the forward ops run until disposal as belonging to a module at <paramref name="path"/>.</summary>
    public static ModuleScope EnterModule(string path)
    {
        var previous = t_modulePath;
        t_modulePath = path;
        return new ModuleScope(previous);
    }

    public readonly struct ModuleScope(string? previous) : IDisposable
    {
        public void Dispose() => t_modulePath = previous;
    }

    public string Describe(string prefix)
    {
        var text = prefix;
        if (ModulePath is not null) text += $" in module '{ModulePath}'";
        if (Stack is not null) text += " at:\n" + Stack.ToString().TrimEnd();
        return text + ".";
    }
}
