using System.Runtime.CompilerServices;

namespace Backprop.Nn;

/// <summary>
/// A module with a forward pass from <typeparamref name="TInput"/> to <typeparamref name="TOutput"/>. Callers use
/// <see cref="Forward"/>; implementers override <see cref="ForwardCore"/>, and <see cref="Forward"/> wraps it with
/// hooks and the module scope that every node it records carries (so an error in backward names the layer).
/// </summary>
/// <remarks>
/// Without hooks, <see cref="Forward"/> costs two thread-static writes over <see cref="ForwardCore"/> and allocates
/// nothing. Losses take two tensors and derive from <see cref="Loss"/>, whose input is the pair.
/// </remarks>
public abstract class Module<TInput, TOutput> : Module
{
    private Hooks? _hooks;

    /// <summary>Runs the module: forward pre-hooks, <see cref="ForwardCore"/>, forward hooks.</summary>
    /// <remarks>
    /// The caller's file and line (filled in by the compiler) are recorded on every node the call creates, so an error
    /// in backward (a NaN, an in-place change) names the line of user code that ran the layer. Pass nothing for them.
    /// </remarks>
    public TOutput Forward(TInput input, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        if (_hooks is not null) return ForwardWithHooks(input, callerFile, callerLine);
        using (NodeOrigin.EnterModule(ScopeOrigin, callerFile, callerLine))
            return ForwardCore(input);
    }

    /// <summary>The computation of this module. Called by <see cref="Forward"/>; not meant to be called directly.</summary>
    protected abstract TOutput ForwardCore(TInput input);

    private TOutput ForwardWithHooks(TInput input, string callerFile, int callerLine)
    {
        var hooks = _hooks!;
        using var scope = NodeOrigin.EnterModule(ScopeOrigin, callerFile, callerLine);
        foreach (var hook in hooks.Pre) input = hook(this, input);
        BackwardHookCall? call = null;
        if (hooks.Backward.Length > 0 && Autograd.IsGradEnabled)
        {
            call = new BackwardHookCall(this, hooks.Backward);
            input = ModuleArguments<TInput>.Rebuild(input, call.WrapInputs(ModuleArguments<TInput>.Flatten(input)));
        }
        var output = ForwardCore(input);
        foreach (var hook in hooks.Post) output = hook(this, input, output);
        if (call is not null)
            output = ModuleArguments<TOutput>.Rebuild(output, call.WrapOutputs(ModuleArguments<TOutput>.Flatten(output)));
        return output;
    }

    /// <summary>Runs <paramref name="hook"/> before each forward pass; it may return a replacement input.</summary>
    public RemovableHandle RegisterForwardPreHook(Func<Module<TInput, TOutput>, TInput, TInput> hook) =>
        AddHook(h => h.Pre, (h, a) => h.Pre = a, hook);

    /// <summary>Runs <paramref name="hook"/> before each forward pass, observing the input.</summary>
    public RemovableHandle RegisterForwardPreHook(Action<Module<TInput, TOutput>, TInput> hook) =>
        RegisterForwardPreHook((m, x) =>
        {
            hook(m, x);
            return x;
        });

    /// <summary>Runs <paramref name="hook"/> after each forward pass with the input and output; it may return a replacement output.</summary>
    public RemovableHandle RegisterForwardHook(Func<Module<TInput, TOutput>, TInput, TOutput, TOutput> hook) =>
        AddHook(h => h.Post, (h, a) => h.Post = a, hook);

    /// <summary>Runs <paramref name="hook"/> after each forward pass, observing input and output.</summary>
    public RemovableHandle RegisterForwardHook(Action<Module<TInput, TOutput>, TInput, TOutput> hook) =>
        RegisterForwardHook((m, x, y) =>
        {
            hook(m, x, y);
            return y;
        });

    /// <summary>
    /// Runs <paramref name="hook"/> once per backward pass through each later forward call, when the gradients with
    /// respect to the module's tensor inputs are known, with those and the gradients of its outputs. It may return
    /// replacement input gradients. Works for inputs and outputs that are a tensor, a tuple of two or three tensors,
    /// or a tensor array.
    /// </summary>
    public RemovableHandle RegisterFullBackwardHook(FullBackwardHook hook)
    {
        if (!ModuleArguments<TInput>.Supported || !ModuleArguments<TOutput>.Supported)
            throw new NotSupportedException(
                $"RegisterFullBackwardHook: {TypeName} takes {typeof(TInput).Name} and returns {typeof(TOutput).Name}; full backward hooks " +
                "need inputs and outputs that are a Tensor, a tuple of two or three Tensors, or a Tensor[]. Use Tensor.RegisterHook instead.");
        return AddHook(h => h.Backward, (h, a) => h.Backward = a, hook);
    }

    /// <summary>As <see cref="RegisterFullBackwardHook(FullBackwardHook)"/>, observing only.</summary>
    public RemovableHandle RegisterFullBackwardHook(Action<Module, IReadOnlyList<Tensor?>, IReadOnlyList<Tensor?>> hook) =>
        RegisterFullBackwardHook((m, gradInputs, gradOutputs) =>
        {
            hook(m, gradInputs, gradOutputs);
            return null;
        });

    private RemovableHandle AddHook<T>(Func<Hooks, T[]> get, Action<Hooks, T[]> set, T hook) where T : class
    {
        ArgumentNullException.ThrowIfNull(hook);
        var hooks = _hooks ??= new Hooks();
        set(hooks, [.. get(hooks), hook]);
        return new RemovableHandle(() =>
        {
            if (_hooks is not { } current) return;
            var list = get(current).ToList();
            int i = list.FindIndex(h => ReferenceEquals(h, hook));
            if (i < 0) return;
            list.RemoveAt(i);
            set(current, list.ToArray());
            if (current.Pre.Length == 0 && current.Post.Length == 0 && current.Backward.Length == 0) _hooks = null;
        });
    }

    // Arrays replaced (never changed) on registration and removal, so a forward pass iterates a stable snapshot.
    private sealed class Hooks
    {
        public Func<Module<TInput, TOutput>, TInput, TInput>[] Pre = [];
        public Func<Module<TInput, TOutput>, TInput, TOutput, TOutput>[] Post = [];
        public FullBackwardHook[] Backward = [];
    }
}
