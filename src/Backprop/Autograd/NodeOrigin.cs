using System.Diagnostics;

namespace Backprop;

/// <summary>
/// Where a node's forward op ran: the module it ran inside, the user's line that called it (see <see cref="CallSite"/>)
/// and, in anomaly mode only, the stack (methods and IL offsets; lines are read from the symbols only when an error
/// shows them).
/// </summary>
/// <remarks>
/// Outside anomaly mode origins are shared: a module keeps the origin of its last calling line and hands it to every
/// node it creates, so a training loop, which calls from the same lines every step, allocates none after its first step,
/// and a node stays one reference bigger than it would be without origins. Entering a module or a call only writes the
/// thread's current module and line; an origin is looked up only when a node is created.
/// </remarks>
internal sealed class NodeOrigin
{
    [ThreadStatic] private static State? t_state;

    // The origin last built from this one for a calling line (a cache; a race only builds one twice).
    private NodeOrigin? _sited;

    private NodeOrigin(string? modulePath, string? file, int line, StackTrace? stack)
    {
        ModulePath = modulePath;
        File = file;
        Line = line;
        Stack = stack;
    }

    /// <summary>What is running on this thread: the module, and the innermost line of user code that called in.</summary>
    internal sealed class State
    {
        public NodeOrigin? Module;
        public string? File;
        public int Line;

        // Origins of nodes created under a user's call outside any module (a functional loss).
        public readonly NodeOrigin Unscoped = new(null, null, 0, null);
    }

    public string? ModulePath { get; }

    /// <summary>The user's file whose call created the node, or null.</summary>
    public string? File { get; }

    public int Line { get; }

    public StackTrace? Stack { get; }

    public CallSite? Site => File is null ? null : new CallSite(File, Line);

    /// <summary>The origin for a node created now.</summary>
    // The whole stack is kept: skipping "our" frames by count would drop the caller's frame once the JIT inlines the
    // small op methods into one another. SourceLines.Format starts at the first frame outside the library instead.
    public static NodeOrigin? Capture()
    {
        var state = t_state;
        if (state is null) return Autograd.IsAnomalyEnabled ? new NodeOrigin(null, null, 0, new StackTrace(fNeedFileInfo: false)) : null;
        var module = state.Module;
        if (Autograd.IsAnomalyEnabled) return new NodeOrigin(module?.ModulePath, state.File, state.Line, new StackTrace(fNeedFileInfo: false));
        if (state.File is not { } file) return module;
        var owner = module ?? state.Unscoped;
        var sited = owner._sited;
        if (sited is null || sited.Line != state.Line || !ReferenceEquals(sited.File, file))
            owner._sited = sited = new NodeOrigin(module?.ModulePath, file, state.Line, null);
        return sited;
    }

    /// <summary>An origin naming only a module, for <see cref="EnterModule(NodeOrigin, string, int)"/>; build it once per module.</summary>
    public static NodeOrigin ForModule(string path) => new(path, null, 0, null);

    /// <summary>
    /// Marks the forward ops run until disposal as belonging to a module (an origin made once by <see cref="ForModule"/>),
    /// called from the given line (a library line leaves the caller's in place). Allocates nothing.
    /// </summary>
    public static Scope EnterModule(NodeOrigin module, string callerFile, int callerLine)
    {
        var state = t_state ??= new State();
        var scope = new Scope(state, state.Module, state.File, state.Line);
        state.Module = module;
        if (!CallSite.IsLibraryFile(callerFile))
        {
            state.File = callerFile;
            state.Line = callerLine;
        }
        return scope;
    }

    /// <summary>Makes a user's line current (a functional loss, an in-place op) until disposed; a library line changes nothing.</summary>
    public static Scope EnterCall(string callerFile, int callerLine)
    {
        var state = t_state ??= new State();
        var scope = new Scope(state, state.Module, state.File, state.Line);
        if (!CallSite.IsLibraryFile(callerFile))
        {
            state.File = callerFile;
            state.Line = callerLine;
        }
        return scope;
    }

    public readonly struct Scope : IDisposable
    {
        private readonly State _state;
        private readonly NodeOrigin? _module;
        private readonly string? _file;
        private readonly int _line;

        internal Scope(State state, NodeOrigin? module, string? file, int line)
        {
            _state = state;
            _module = module;
            _file = file;
            _line = line;
        }

        public void Dispose()
        {
            _state.Module = _module;
            _state.File = _file;
            _state.Line = _line;
        }
    }

    /// <summary>
    /// Where <paramref name="node"/> was created, for error messages: "in module 'M' by the call at File:Line" (either
    /// part may be missing; in anomaly mode the line comes from the stack when no call recorded one). Empty when nothing
    /// was recorded.
    /// </summary>
    public static string Describe(Node node)
    {
        var origin = node.Origin;
        var parts = new List<string>();
        if (origin?.ModulePath is { } module) parts.Add($"in module '{module}'");
        if (origin?.Site is { } site) parts.Add($"by the call at {site}");
        else if (origin?.Stack is { } stack && SourceLines.FirstUserFrame(stack) is { } frame && SourceLines.Resolve(frame) is var (file, line))
            parts.Add($"at {file}:{line}");
        return string.Join(" ", parts);
    }

    /// <summary>The forward stack recorded in anomaly mode, from the first frame outside the library, or null.</summary>
    public static string? StackText(Node node) => node.Origin?.Stack is { } stack ? SourceLines.Format(stack) : null;
}
