using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// Forward-mode automatic differentiation (PyTorch's <c>torch.autograd.forward_ad</c>): a dual tensor is a primal
/// value carrying a tangent of its shape, and every op on dual tensors computes its output's tangent, the
/// Jacobian-vector product, with its own forward-mode rule (<see cref="Node.Jvp"/>, declared beside its backward).
/// One forward pass with tangent v gives J·v, a column of the Jacobian when v is a basis vector.
/// <code>
/// using (ForwardAD.DualLevel())
/// {
///     var x = ForwardAD.MakeDual(primal, tangent);
///     var (y, dy) = ForwardAD.UnpackDual(f(x));   // dy = J_f(primal) · tangent
/// }
/// </code>
/// </summary>
/// <remarks>
/// Tangents exist only inside a <see cref="DualLevel"/> on the thread that opened it; leaving the level drops them.
/// Tangent computations are ordinary tensor ops, recorded by reverse mode when they involve tensors that require
/// grad, so derivatives compose: a backward pass with <c>createGraph</c> run inside the level on dual inputs gives
/// gradients whose tangents are Hessian-vector products (forward-over-reverse). See docs/architecture.md,
/// Note [Forward mode].
/// </remarks>
public static class ForwardAD
{
    /// <summary>The tangents of one dual level, by tensor; weak keys, so a dead tensor's tangent goes with it.</summary>
    private sealed class Level
    {
        public readonly ConditionalWeakTable<Tensor, TangentEntry> Tangents = new();
        public bool Closed;
    }

    /// <summary>
    /// A tangent (null: known to be zero) and the storage version of its primal when it was set: an in-place write
    /// since makes it stale.
    /// </summary>
    private sealed record TangentEntry(Tensor? Tangent, int Version);

    [ThreadStatic] private static Level? t_level;

    // Above 0 while a forward-mode rule runs: its ops act on primals and tangents, and their own tangents (second-order
    // terms) are not wanted.
    [ThreadStatic] private static int t_suspended;

    /// <summary>Whether ops propagate tangents now: inside a dual level, and not inside a forward-mode rule.</summary>
    internal static bool IsPropagating => t_level is not null && t_suspended == 0;

    /// <summary>Whether a dual level is open on this thread.</summary>
    public static bool IsActive => t_level is not null;

    /// <summary>
    /// Opens a dual level until the returned scope is disposed: <c>using (ForwardAD.DualLevel()) { … }</c>. Tangents
    /// made or computed inside it are dropped when it closes. Levels do not nest (as in PyTorch).
    /// </summary>
    public static IDisposable DualLevel()
    {
        if (t_level is not null)
            throw new InvalidOperationException(
                "ForwardAD.DualLevel: a dual level is already open on this thread; nested forward-mode levels are not supported.");
        var level = new Level();
        t_level = level;
        return new DualLevelScope(level);
    }

    private sealed class DualLevelScope(Level level) : IDisposable
    {
        public void Dispose()
        {
            if (level.Closed) return;
            if (!ReferenceEquals(t_level, level))
                throw new InvalidOperationException("ForwardAD.DualLevel: a dual level must be closed on the thread that opened it.");
            level.Closed = true;
            level.Tangents.Clear();
            t_level = null;
        }
    }

    /// <summary>
    /// A dual tensor: a view of <paramref name="primal"/> (gradients flow back to it) carrying <paramref name="tangent"/>
    /// as its tangent. The tangent must have the primal's shape, dtype and device; it is kept as it is, not copied.
    /// </summary>
    public static Tensor MakeDual(Tensor primal, Tensor tangent)
    {
        ArgumentNullException.ThrowIfNull(primal);
        ArgumentNullException.ThrowIfNull(tangent);
        var level = t_level ?? throw new InvalidOperationException(
            "MakeDual: no dual level is open; call it inside 'using (ForwardAD.DualLevel()) { … }'.");
        if (!primal.DType.IsFloatingPoint())
            throw new ArgumentException($"MakeDual: only floating-point tensors can carry a tangent; the primal is {primal.DType.DisplayName()}.");
        if (tangent.Shape != primal.Shape)
            throw new ShapeMismatchException("MakeDual", $"the tangent has shape {tangent.Shape} but the primal has shape {primal.Shape}; they must be equal");
        if (tangent.DType != primal.DType)
            throw new ArgumentException($"MakeDual: the tangent is {tangent.DType.DisplayName()} but the primal is {primal.DType.DisplayName()}; they must be equal.");
        Tensor.CheckSameDevice("MakeDual", primal, ("the tangent", tangent));
        Tensor dual;
        using (Suspend()) dual = Ops.ViewOp.Apply(primal, primal.Sizes);
        level.Tangents.AddOrUpdate(dual, new TangentEntry(tangent, dual.Version));
        return dual;
    }

    /// <summary>
    /// The primal (a view of <paramref name="tensor"/> without tangent, through which gradients flow back) and the
    /// tangent, null when the tensor carries none (a zero tangent) or no dual level is open.
    /// </summary>
    public static (Tensor Primal, Tensor? Tangent) UnpackDual(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (t_level is null) return (tensor, null);
        var tangent = TangentOf(tensor);
        if (tangent is null) return (tensor, null);
        Tensor primal;
        using (Suspend()) primal = Ops.ViewOp.Apply(tensor, tensor.Sizes);
        return (primal, tangent);
    }

    /// <summary>The tangent of <paramref name="tensor"/> in the open level, or null (zero).</summary>
    internal static Tensor? TangentOf(Tensor tensor)
    {
        if (t_level is not { } level) return null;
        if (!level.Tangents.TryGetValue(tensor, out var entry)) return ViewOfWrittenBase(level, tensor);
        if (entry.Version == tensor.Version) return entry.Tangent;
        return RefreshStaleTangent(level, tensor, entry);
    }

    /// <summary>
    /// A view without a tangent of its own whose base was given one by an in-place write after the view was made (as
    /// <c>row = x[1]</c> before <c>x[1, 1..] = dual</c>): the view's tangent is its part of the base's.
    /// </summary>
    private static Tensor? ViewOfWrittenBase(Level level, Tensor tensor) =>
        tensor.ViewBase is { } root && level.Tangents.TryGetValue(root, out var rootEntry) && rootEntry.Version > tensor.ViewCreatedVersion &&
        TryReadFromBase(level, tensor, out var tangent) ? tangent : null;

    /// <summary>
    /// The view's tangent read from its base's current one (zero when the base's is) and recorded as of the view's
    /// version; false when the base has no current tangent entry.
    /// </summary>
    private static bool TryReadFromBase(Level level, Tensor view, out Tensor? tangent)
    {
        tangent = null;
        if (view.ViewBase is not { } root || !level.Tangents.TryGetValue(root, out var rootEntry) || rootEntry.Version != root.Version) return false;
        if (rootEntry.Tangent is { } rootTangent)
            using (Suspend()) tangent = view.GatherFromBase(rootTangent);
        level.Tangents.AddOrUpdate(view, new TangentEntry(tangent, view.Version));
        return true;
    }

    /// <summary>
    /// The primal was written in place after its tangent was set. A view written through its base (or another view of
    /// it) reads its tangent from the base's, as its gradient history is rebuilt from the base; anything else was
    /// changed by a write that did not carry tangents, and its tangent is unknown.
    /// </summary>
    private static Tensor? RefreshStaleTangent(Level level, Tensor tensor, TangentEntry entry)
    {
        if (TryReadFromBase(level, tensor, out var tangent)) return tangent;
        // Known zero before, and still no tangent anywhere: an in-place write without tangents keeps it zero.
        if (entry.Tangent is null) return null;
        throw new InvalidOperationException(
            $"Forward AD: a dual tensor of shape {tensor.Shape} was changed in place (now version {tensor.Version}) by an operation that " +
            "did not update its tangent, so its tangent is unknown. Change dual tensors only with the library's in-place ops, " +
            "or use out-of-place ops inside a dual level.");
    }

    /// <summary>Whether the tensor has an entry in the open level (a tangent, possibly one to be refreshed).</summary>
    internal static bool HasTangent(Tensor a)
    {
        if (t_level is not { } level) return false;
        if (level.Tangents.TryGetValue(a, out var entry)) return entry.Tangent is not null || entry.Version != a.Version;
        return a.ViewBase is { } root && level.Tangents.TryGetValue(root, out var rootEntry) && rootEntry.Version > a.ViewCreatedVersion;
    }

    /// <summary>Whether an in-place op on <paramref name="target"/> must carry tangents: either side has one while propagating.</summary>
    internal static bool Involves(Tensor target, Tensor? source = null) =>
        IsPropagating && (HasTangent(target) || (source is not null && HasTangent(source)) || (target.ViewBase is { } root && HasTangent(root)));

    /// <summary>
    /// After an in-place write of <paramref name="result"/>'s values into <paramref name="target"/>: the target's tangent
    /// becomes the result's (zero when it has none), as of the target's new version.
    /// </summary>
    internal static void AfterInPlace(Tensor target, Tensor result)
    {
        if (t_level is not { } level) return;
        level.Tangents.AddOrUpdate(target, new TangentEntry(TangentOf(result), target.Version));
    }

    /// <summary>After an in-place write through <paramref name="view"/> into its base: its tangent is read from the base's.</summary>
    internal static void AfterWriteThroughView(Tensor view)
    {
        if (t_level is { } level) TryReadFromBase(level, view, out _);
    }

    /// <summary>Stops tangent propagation until disposed (while a forward-mode rule computes a tangent).</summary>
    internal static SuspendScope Suspend()
    {
        t_suspended++;
        return default;
    }

    internal readonly struct SuspendScope : IDisposable
    {
        public void Dispose() => t_suspended--;
    }

    /// <summary>
    /// Runs <paramref name="node"/>'s forward-mode rule for <paramref name="output"/> and attaches the tangent it gives.
    /// Outputs that are not floating point (indices, comparisons) carry no tangent.
    /// </summary>
    internal static void Propagate(Node node, Tensor[] inputs, Tensor?[] tangents, Tensor output)
    {
        if (t_level is not { } level) return;
        if (!output.DType.IsFloatingPoint()) return;
        Tensor? tangent;
        using (Suspend()) tangent = node.Jvp(inputs, tangents, output);
        if (tangent is null) return;
        if (!tangent.Sizes.AsSpan().SequenceEqual(output.Sizes))
            throw new InvalidOperationException(
                $"{node.Name}: its forward-mode rule returned a tangent of shape {tangent.Shape} for an output of shape {output.Shape}.");
        if (tangent.DType != output.DType)
            using (Suspend()) tangent = tangent.To(output.DType);
        level.Tangents.AddOrUpdate(output, new TangentEntry(tangent, output.Version));
    }

    /// <summary>The tangents of <paramref name="inputs"/> when any carries one while propagating, else null.</summary>
    internal static Tensor?[]? TangentsOf(ReadOnlySpan<Tensor> inputs)
    {
        if (!IsPropagating) return null;
        Tensor?[]? tangents = null;
        for (int i = 0; i < inputs.Length; i++)
            if (TangentOf(inputs[i]) is { } t) (tangents ??= new Tensor?[inputs.Length])[i] = t;
        return tangents;
    }

    /// <summary>A tangent, or zeros of <paramref name="like"/>'s shape and dtype for a null (zero) one.</summary>
    internal static Tensor OrZeros(Tensor? tangent, Tensor like) => tangent ?? Tensor.ZerosLike(like);

    /// <summary>a + b where null means zero.</summary>
    internal static Tensor? Plus(Tensor? a, Tensor? b) => a is null ? b : b is null ? a : a + b;
}
