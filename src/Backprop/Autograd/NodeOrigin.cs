using System.Diagnostics;

namespace Backprop;

/// <summary>
/// Where a node's forward op ran: the module it ran inside (cheap, recorded whenever a module is running) and,
/// in anomaly mode only, the full stack trace (costly, so off by default).
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
        return new NodeOrigin(module?.ModulePath, new StackTrace(2, fNeedFileInfo: true));
    }

    /// <summary>An origin naming only a module, for <see cref="EnterModule(NodeOrigin)"/>; build it once per module.</summary>
    public static NodeOrigin ForModule(string path) => new(path, null);

    /// <summary>Marks the forward ops run until disposal as belonging to a module at <paramref name="path"/>.</summary>
    public static ModuleScope EnterModule(string path) => EnterModule(ForModule(path));

    /// <summary>As <see cref="EnterModule(string)"/>, with an origin made by <see cref="ForModule"/> (no allocation).</summary>
    public static ModuleScope EnterModule(NodeOrigin module)
    {
        var previous = t_module;
        t_module = module;
        return new ModuleScope(previous);
    }

    public readonly struct ModuleScope(NodeOrigin? previous) : IDisposable
    {
        public void Dispose() => t_module = previous;
    }

    public string Describe(string prefix)
    {
        var text = prefix;
        if (ModulePath is not null) text += $" in module '{ModulePath}'";
        if (Stack is not null) text += " at:\n" + Stack.ToString().TrimEnd();
        return text + ".";
    }
}
