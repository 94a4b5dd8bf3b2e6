using System.Diagnostics;

namespace Backprop;

/// <summary>
/// Where a node's forward op ran: the module it ran inside (cheap, recorded whenever a module is running) and,
/// in anomaly mode only, the stack (methods and IL offsets; lines are read from the symbols only when an error shows them).
/// The user's line comes separately, from <see cref="CallSite"/>.
/// </summary>
internal sealed class NodeOrigin(string? modulePath, StackTrace? stack)
{
    // The running module's origin, shared by every node it creates outside anomaly mode: it is immutable, so a
    // module builds it once and a forward pass allocates nothing for it.
    [ThreadStatic] private static NodeOrigin? t_module;

    public string? ModulePath { get; } = modulePath;

    public StackTrace? Stack { get; } = stack;

    public static NodeOrigin? Capture()
    {
        var module = t_module;
        if (!Autograd.IsAnomalyEnabled) return module;
        return new NodeOrigin(module?.ModulePath, new StackTrace(2, fNeedFileInfo: false));
    }

    /// <summary>An origin naming only a module, for <see cref="EnterModule(NodeOrigin, string, int)"/>; build it once per module.</summary>
    public static NodeOrigin ForModule(string path) => new(path, null);

    /// <summary>Marks the forward ops run until disposal as belonging to a module at <paramref name="path"/>.</summary>
    public static ModuleScope EnterModule(string path) => EnterModule(ForModule(path), "", 0);

    /// <summary>
    /// As <see cref="EnterModule(string)"/>, with an origin made by <see cref="ForModule"/> and the line that called the
    /// module (neither allocates).
    /// </summary>
    public static ModuleScope EnterModule(NodeOrigin module, string callerFile, int callerLine)
    {
        var previous = t_module;
        t_module = module;
        return new ModuleScope(previous, CallSite.Enter(callerFile, callerLine));
    }

    public readonly struct ModuleScope(NodeOrigin? previous, CallSite.Scope site) : IDisposable
    {
        public void Dispose()
        {
            t_module = previous;
            site.Dispose();
        }
    }

    /// <summary>
    /// Where <paramref name="node"/> was created, for error messages: its module, the user's line that ran it, and in
    /// anomaly mode the stack. Empty when nothing was recorded.
    /// </summary>
    public static string Describe(Node node)
    {
        var parts = new List<string>();
        if (node.Origin?.ModulePath is { } module) parts.Add($"in module '{module}'");
        if (node.CallSite is { } site) parts.Add($"called from {site}");
        else if (node.Origin?.Stack is { } stack && SourceLines.FirstUserFrame(stack) is { } frame && SourceLines.Resolve(frame) is var (file, line))
            parts.Add($"called from {file}:{line}");
        var text = string.Join(", ", parts);
        if (node.Origin?.Stack is { } trace) text += (text.Length > 0 ? "; " : "") + "forward stack:\n" + SourceLines.Format(trace);
        return text;
    }
}
