namespace Backprop;

/// <summary>Grad mode, anomaly mode and the functional gradient API.</summary>
public static class Autograd
{
    [ThreadStatic] private static bool t_gradDisabled;
    [ThreadStatic] private static int t_anomalyDepth;
    [ThreadStatic] private static int t_sentinelDepth;

    /// <summary>Whether ops record a graph for tensors that require grad (true unless inside <see cref="NoGrad"/>).</summary>
    public static bool IsGradEnabled => !t_gradDisabled;

    /// <summary>Stops recording until disposed: <c>using (Autograd.NoGrad()) { … }</c>. For inference and optimizer updates.</summary>
    public static GradModeScope NoGrad() => SetGradEnabled(false);

    /// <summary>Turns recording back on inside a <see cref="NoGrad"/> region until disposed.</summary>
    public static GradModeScope EnableGrad() => SetGradEnabled(true);

    public static GradModeScope SetGradEnabled(bool enabled)
    {
        var scope = new GradModeScope(!t_gradDisabled);
        t_gradDisabled = !enabled;
        return scope;
    }

    internal static bool IsAnomalyEnabled => t_anomalyDepth > 0;

    internal static void LeaveAnomaly() => t_anomalyDepth = Math.Max(0, t_anomalyDepth - 1);

    /// <summary>Whether backward checks every gradient it computes for NaN and ±∞ (anomaly mode or the sentinel is on).</summary>
    public static bool IsCheckingNonFinite => t_anomalyDepth > 0 || t_sentinelDepth > 0;

    /// <summary>
    /// Anomaly mode until disposed: every node records the stack of its forward op, and a backward that produces
    /// NaN or ±∞ throws an <see cref="AnomalyException"/> naming the node, its module, the line that called it, and
    /// that stack. The stack is captured without source lines (they are read from the symbols only for the error),
    /// which keeps it several times cheaper than a stack with file information; still meant for hunting a bug.
    /// For training, leave <see cref="DetectNonFinite"/> on instead.
    /// </summary>
    public static AnomalyScope DetectAnomaly()
    {
        t_anomalyDepth++;
        return new AnomalyScope(sentinel: false);
    }

    /// <summary>
    /// The non-finite sentinel until disposed, on this thread: backward checks each gradient as it is produced
    /// (a vectorised scan over memory the backward just wrote) and stops at the first NaN or ±∞ with an
    /// <see cref="AnomalyException"/> naming the op, its module, and the line that called it (the innermost
    /// <c>Module.Forward</c> or functional loss called from user code, recorded for free by caller-info attributes),
    /// and the line that called <c>Backward</c>. It records no stacks, so it is cheap enough to leave on while training:
    /// <c>using var _ = Autograd.DetectNonFinite();</c>.
    /// </summary>
    public static AnomalyScope DetectNonFinite()
    {
        t_sentinelDepth++;
        return new AnomalyScope(sentinel: true);
    }

    internal static void LeaveSentinel() => t_sentinelDepth = Math.Max(0, t_sentinelDepth - 1);

    /// <summary>Whether recording is on and any of the tensors requires grad, i.e. whether an op should record a node.</summary>
    internal static bool IsRecording(Tensor a) => !t_gradDisabled && a.RequiresGrad;

    internal static bool IsRecording(Tensor a, Tensor b) => !t_gradDisabled && (a.RequiresGrad || b.RequiresGrad);

    internal static bool IsRecording(ReadOnlySpan<Tensor> tensors)
    {
        if (t_gradDisabled) return false;
        foreach (var t in tensors) if (t.RequiresGrad) return true;
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

/// <summary>Restores the previous grad mode when disposed.</summary>
public readonly struct GradModeScope(bool previousEnabled) : IDisposable
{
    public void Dispose() => Autograd.SetGradEnabled(previousEnabled);
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
