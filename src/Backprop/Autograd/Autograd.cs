namespace Backprop;

/// <summary>Grad mode, anomaly mode and the functional gradient API.</summary>
/// <remarks>
/// The modes are carried by the <see cref="ExecutionContext"/> (an <see cref="AsyncLocal{T}"/>), so they follow
/// <c>await</c> and flow into tasks and threads started inside a scope, and a scope opened in an async method ends with
/// that method's flow instead of leaking onto whichever thread it last ran on. Every op reads them, so the reads are of
/// [ThreadStatic] mirrors, which the AsyncLocal's change callback keeps equal to the flow's value on whichever thread the
/// flow runs (see Note [Modes flow with the ExecutionContext] in docs/architecture.md).
/// </remarks>
public static class Autograd
{
    /// <summary>The modes of one flow; immutable, so a captured ExecutionContext keeps the value it captured.</summary>
    private sealed class Modes
    {
        private const int Interned = 4;

        // Every combination with depths below Interned, made once: entering or leaving a scope allocates no Modes, and
        // the default is one instance, stored as null so that a flow back to the default looks like one that never set a mode.
        private static readonly Modes[] Table = Enumerable.Range(0, 2 * Interned * Interned)
            .Select(i => new Modes(i >= Interned * Interned, i / Interned % Interned, i % Interned)).ToArray();

        private Modes(bool gradDisabled, int anomalyDepth, int sentinelDepth)
        {
            GradDisabled = gradDisabled;
            AnomalyDepth = anomalyDepth;
            SentinelDepth = sentinelDepth;
        }

        public bool GradDisabled { get; }

        public int AnomalyDepth { get; }

        public int SentinelDepth { get; }

        public static Modes Default => Table[0];

        public static Modes Of(bool gradDisabled, int anomalyDepth, int sentinelDepth) =>
            anomalyDepth < Interned && sentinelDepth < Interned
                ? Table[(gradDisabled ? Interned * Interned : 0) + anomalyDepth * Interned + sentinelDepth]
                : new Modes(gradDisabled, anomalyDepth, sentinelDepth);

        public Modes WithGradDisabled(bool disabled) => Of(disabled, AnomalyDepth, SentinelDepth);

        public Modes WithAnomalyDepth(int depth) => Of(GradDisabled, depth, SentinelDepth);

        public Modes WithSentinelDepth(int depth) => Of(GradDisabled, AnomalyDepth, depth);
    }

    private static readonly AsyncLocal<Modes?> s_modes = new(static change => Mirror(change.CurrentValue));

    // Mirrors of s_modes.Value on this thread, written only by Mirror (which the AsyncLocal calls on every change of the
    // value seen by this thread: a scope entered or left, or an ExecutionContext switched to or restored).
    [ThreadStatic] private static bool t_gradDisabled;
    [ThreadStatic] private static bool t_anomaly;
    [ThreadStatic] private static bool t_checkingNonFinite;

    private static void Mirror(Modes? modes)
    {
        t_gradDisabled = modes is { GradDisabled: true };
        t_anomaly = modes is { AnomalyDepth: > 0 };
        t_checkingNonFinite = modes is { AnomalyDepth: > 0 } or { SentinelDepth: > 0 };
    }

    private static Modes Current => s_modes.Value ?? Modes.Default;

    private static void Set(Modes modes) => s_modes.Value = ReferenceEquals(modes, Modes.Default) ? null : modes;

    /// <summary>Whether ops record a graph for tensors that require grad (true unless inside <see cref="NoGrad"/>).</summary>
    public static bool IsGradEnabled => !t_gradDisabled;

    /// <summary>
    /// Stops recording until disposed: <c>using (Autograd.NoGrad()) { … }</c>. For inference and optimizer updates.
    /// The mode holds for the code of this flow, across <c>await</c>, and for tasks started inside the scope.
    /// </summary>
    public static GradModeScope NoGrad() => SetGradEnabled(false);

    /// <summary>Turns recording back on inside a <see cref="NoGrad"/> region until disposed.</summary>
    public static GradModeScope EnableGrad() => SetGradEnabled(true);

    /// <summary>Sets the grad mode until the returned scope is disposed, which restores the mode it found.</summary>
    public static GradModeScope SetGradEnabled(bool enabled)
    {
        bool wasEnabled = !t_gradDisabled;
        // Already so: nothing to set or restore, which keeps nested NoGrad (an op's own, inside backward) free.
        if (wasEnabled == enabled) return default;
        Set(Current.WithGradDisabled(!enabled));
        return new GradModeScope(wasEnabled);
    }

    internal static void RestoreGradEnabled(bool enabled)
    {
        if (!t_gradDisabled == enabled) return;
        Set(Current.WithGradDisabled(!enabled));
    }

    internal static bool IsAnomalyEnabled => t_anomaly;

    /// <summary>
    /// Whether a backward formula must be written in tensor ops rather than a fused kernel: when it is recorded
    /// (createGraph), or when tangents flow through it (forward-over-reverse), since a kernel is a constant to both.
    /// </summary>
    internal static bool BackwardRecords => !t_gradDisabled || ForwardAD.IsPropagating;

    /// <summary>Whether backward checks every gradient it computes for NaN and ±∞ (anomaly mode or the sentinel is on).</summary>
    public static bool IsCheckingNonFinite => t_checkingNonFinite;

    /// <summary>
    /// Anomaly mode until disposed: every node records the stack of its forward op, and a backward that produces
    /// NaN or ±∞ throws an <see cref="AnomalyException"/> naming the node, its module, the line that called it, and
    /// that stack. The stack is captured without source lines (they are read from the symbols only for the error),
    /// which keeps it several times cheaper than a stack with file information; still meant for hunting a bug.
    /// For training, leave <see cref="DetectNonFinite"/> on instead. Like <see cref="NoGrad"/>, it follows <c>await</c>
    /// and holds in tasks started inside the scope (a backward run there is checked).
    /// </summary>
    public static AnomalyScope DetectAnomaly()
    {
        var modes = Current;
        Set(modes.WithAnomalyDepth(modes.AnomalyDepth + 1));
        return new AnomalyScope(sentinel: false);
    }

    internal static void LeaveAnomaly()
    {
        var modes = Current;
        if (modes.AnomalyDepth > 0) Set(modes.WithAnomalyDepth(modes.AnomalyDepth - 1));
    }

    /// <summary>
    /// The non-finite sentinel until disposed: backward checks each gradient as it is produced
    /// (a vectorised scan over memory the backward just wrote) and stops at the first NaN or ±∞ with an
    /// <see cref="AnomalyException"/> naming the op, its module, and the line that called it (the innermost
    /// <c>Module.Forward</c> or functional loss called from user code, recorded for free by caller-info attributes),
    /// and the line that called <c>Backward</c>. It records no stacks, so it is cheap enough to leave on while training:
    /// <c>using var _ = Autograd.DetectNonFinite();</c>. It follows <c>await</c> and holds in tasks started inside the
    /// scope, like <see cref="NoGrad"/>.
    /// </summary>
    public static AnomalyScope DetectNonFinite()
    {
        var modes = Current;
        Set(modes.WithSentinelDepth(modes.SentinelDepth + 1));
        return new AnomalyScope(sentinel: true);
    }

    internal static void LeaveSentinel()
    {
        var modes = Current;
        if (modes.SentinelDepth > 0) Set(modes.WithSentinelDepth(modes.SentinelDepth - 1));
    }

    /// <summary>
    /// Whether an op should create a node: recording is on and any of the tensors requires grad, or a dual level is
    /// propagating tangents and any of them carries one (the node then computes the output's tangent).
    /// </summary>
    internal static bool IsRecording(Tensor a) =>
        (!t_gradDisabled && a.RequiresGrad) || (ForwardAD.IsPropagating && ForwardAD.HasTangent(a));

    internal static bool IsRecording(Tensor a, Tensor b) =>
        (!t_gradDisabled && (a.RequiresGrad || b.RequiresGrad)) || (ForwardAD.IsPropagating && (ForwardAD.HasTangent(a) || ForwardAD.HasTangent(b)));

    internal static bool IsRecording(ReadOnlySpan<Tensor> tensors)
    {
        if (!t_gradDisabled)
            foreach (var t in tensors) if (t.RequiresGrad) return true;
        if (ForwardAD.IsPropagating)
            foreach (var t in tensors) if (ForwardAD.HasTangent(t)) return true;
        return false;
    }

    /// <summary>
    /// The gradients of <paramref name="outputs"/> with respect to <paramref name="inputs"/>, returned instead of being
    /// accumulated into <c>Grad</c> (torch.autograd.grad). With <paramref name="createGraph"/> the results carry a graph
    /// of their own, for higher-order derivatives.
    /// </summary>
    /// <param name="gradOutputs">The vector in the vector-Jacobian product, one per output; omitted for scalar outputs (ones).</param>
    /// <param name="allowUnused">Return null for an input the outputs do not depend on, instead of throwing.</param>
    public static Tensor?[] Grad(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor> inputs, IReadOnlyList<Tensor>? gradOutputs = null,
        bool retainGraph = false, bool createGraph = false, bool allowUnused = false)
    {
        var rootGrads = RootGradients(outputs, gradOutputs);
        var captures = new Dictionary<Node, Tensor?>();
        var inputNodes = new Node[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            inputNodes[i] = inputs[i].GradEdge ?? throw new ArgumentException(
                $"Grad: input {i} (shape {inputs[i].Shape}) does not require grad, so no gradient can be computed for it.");
            captures[inputNodes[i]] = null;
        }
        Engine.Run(outputs, rootGrads, retainGraph || createGraph, createGraph, captures);
        var result = new Tensor?[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            result[i] = captures[inputNodes[i]];
            if (result[i] is null && !allowUnused)
                throw new InvalidOperationException(
                    $"Grad: input {i} (shape {inputs[i].Shape}) was not used to compute the outputs. Pass allowUnused: true to get null for it.");
        }
        return result;
    }

    internal static Tensor[] RootGradients(IReadOnlyList<Tensor> outputs, IReadOnlyList<Tensor>? gradOutputs)
    {
        if (gradOutputs is not null && gradOutputs.Count != outputs.Count)
            throw new ArgumentException($"Backward: {outputs.Count} outputs but {gradOutputs.Count} gradients.");
        var grads = new Tensor[outputs.Count];
        for (int i = 0; i < outputs.Count; i++)
        {
            var output = outputs[i];
            if (gradOutputs?[i] is { } g)
            {
                if (g.Shape != output.Shape)
                    throw new ShapeMismatchException("Backward", $"the gradient has shape {g.Shape} but the tensor has shape {output.Shape}");
                grads[i] = g.DType == output.DType ? g : g.To(output.DType);
            }
            else
            {
                if (output.NumElements != 1)
                    throw new InvalidOperationException(
                        $"Backward: the gradient can be implicitly created only for a scalar output; this tensor has shape {output.Shape}. " +
                        "Reduce it to a scalar (e.g. .Sum() or .Mean()) or pass a gradient of its shape.");
                grads[i] = Tensor.OnesLike(output);
            }
        }
        return grads;
    }
}

/// <summary>Restores the grad mode found when the scope began, when disposed (nothing, if the scope changed nothing).</summary>
public readonly struct GradModeScope : IDisposable
{
    // 0: the scope changed nothing (also default(GradModeScope)); 1: restore disabled; 2: restore enabled.
    private readonly byte _restore;

    internal GradModeScope(bool previousEnabled) => _restore = previousEnabled ? (byte)2 : (byte)1;

    public void Dispose()
    {
        if (_restore != 0) Autograd.RestoreGradEnabled(_restore == 2);
    }
}

/// <summary>Leaves anomaly mode (or the non-finite sentinel) when disposed.</summary>
public readonly struct AnomalyScope : IDisposable
{
    private readonly bool _sentinel;

    internal AnomalyScope(bool sentinel) => _sentinel = sentinel;

    public void Dispose()
    {
        if (_sentinel) Autograd.LeaveSentinel();
        else Autograd.LeaveAnomaly();
    }
}
