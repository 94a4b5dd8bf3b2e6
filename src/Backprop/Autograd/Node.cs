using System.Collections.Concurrent;

using Backprop.Diagnostics;

namespace Backprop;

/// <summary>
/// One recorded op in the backward graph. It holds edges to the nodes that produced its inputs (null where an
/// input needs no gradient) and exactly the tensors its backward needs, saved with their version so an in-place
/// change made after the forward pass is caught instead of silently giving a wrong gradient.
/// </summary>
public abstract class Node
{
    private static long s_sequence;
    private static readonly ConcurrentDictionary<Type, string> Names = new();

    private SavedTensor[]? _saved;

    /// <summary>The inputs and their tangents, kept from construction to <see cref="Attach"/> when any input is dual.</summary>
    private (Tensor[] Inputs, Tensor?[] Tangents)? _forward;

    /// <summary>Which inputs carried a tangent at construction (null when none did): their derivatives are needed too.</summary>
    private readonly bool[]? _hasTangent;

    /// <summary>True for an op node whose inputs need no gradient: it exists only to compute a tangent (forward mode).</summary>
    private readonly bool _carriesTangentOnly;
    // Checkpointed tensors recomputed for the backward now running on this node.
    private Tensor?[]? _unpacked;

    /// <summary>Creates a node for an op whose inputs are <paramref name="inputs"/>, recording an edge per input.</summary>
    protected Node(params ReadOnlySpan<Tensor> inputs)
    {
        var next = new Node?[inputs.Length];
        // Under NoGrad a node exists only to carry tangents (forward mode): it records no edges, so its output has no history.
        if (Autograd.IsGradEnabled)
            for (int i = 0; i < inputs.Length; i++) next[i] = inputs[i].GradEdge;
        Next = next;
        _carriesTangentOnly = !Array.Exists(next, n => n is not null);
        if (ForwardAD.TangentsOf(inputs) is { } tangents)
        {
            _forward = (inputs.ToArray(), tangents);
            _hasTangent = Array.ConvertAll(tangents, t => t is not null);
        }
        Sequence = Interlocked.Increment(ref s_sequence);
        Origin = NodeOrigin.Capture();
    }

    /// <summary>For nodes without inputs (leaf accumulators).</summary>
    private protected Node(bool _)
    {
        Next = [];
        Sequence = Interlocked.Increment(ref s_sequence);
    }

    /// <summary>Producer node of each input, or null where that input needs no gradient.</summary>
    internal readonly Node?[] Next;

    /// <summary>Creation order; the engine runs ready nodes latest-first, as PyTorch does.</summary>
    internal readonly long Sequence;

    /// <summary>Where the forward op ran: the module and the user's calling line always, the stack in anomaly mode.</summary>
    internal NodeOrigin? Origin;

    internal int[] OutputSizes = [];
    internal DType OutputDType;

    /// <summary>True once backward has freed what the node saved (see <c>retainGraph</c>).</summary>
    internal bool Released;

    // Engine scratch, valid during one backward pass.
    internal int VisitStamp;
    internal int Dependencies;
    internal int NeededStamp;
    internal int WalkStamp;
    internal Tensor? PendingGrad;

    internal List<Func<Tensor, Tensor?>>? PreHooks;
    internal List<Action<Node, Tensor, IReadOnlyList<Tensor?>>>? PostHooks;
    internal Tensor? RetainGradTarget;

    /// <summary>A name in PyTorch's style: the op class <c>MulOp</c> shows as <c>MulBackward</c>.</summary>
    public virtual string Name => Names.GetOrAdd(GetType(), static t =>
        (t.Name.EndsWith("Op", StringComparison.Ordinal) ? t.Name[..^2] : t.Name) + "Backward");

    /// <summary>The nodes this one sends gradients to, one per input (null where none is needed).</summary>
    public IReadOnlyList<Node?> NextFunctions => Next;

    public Shape OutputShape => Shape.Wrap(OutputSizes);

    /// <summary>The module whose forward pass created this node (e.g. <c>Mlp.layers.2 (Linear)</c>), or null outside modules.</summary>
    public string? ModulePath => Origin?.ModulePath;

    /// <summary>
    /// The line outside the library whose call created this node: the innermost <c>Module.Forward</c>, functional loss
    /// or in-place call made from user code. Null for ops called directly outside any of these.
    /// </summary>
    public CallSite? CallSite => Origin?.Site;

    /// <summary>Where this node was created, in words: its module and the user's line that called it, when recorded.</summary>
    public string DescribeOrigin() => NodeOrigin.Describe(this);

    /// <summary>The tensors this node keeps for its backward (empty after the graph is freed).</summary>
    public IEnumerable<Tensor> SavedTensors
    {
        get
        {
            if (_saved is null) yield break;
            foreach (var s in _saved) if (s.Tensor is not null) yield return s.Tensor;
        }
    }

    /// <summary>Bytes this node keeps alive for backward (each saved storage counted once).</summary>
    public long SavedBytes => SavedTensors.Select(t => t.Storage).Distinct().Sum(s => s.Bytes);

    /// <summary>
    /// Whether input <paramref name="i"/> needs a gradient (or carries a tangent, whose rule may go through the backward);
    /// backward skips the others.
    /// </summary>
    protected bool NeedsGrad(int i) => Next[i] is not null || (_hasTangent is { } dual && dual[i]);

    protected int InputCount => Next.Length;

    /// <summary>Keeps tensors for backward (null entries are allowed and stay null).</summary>
    /// <remarks>Inside a gradient checkpoint the tensors the region created are not held but recomputed in backward (see <see cref="GradientCheckpoint"/>).</remarks>
    protected void Save(params ReadOnlySpan<Tensor?> tensors)
    {
        _saved = new SavedTensor[tensors.Length];
        for (int i = 0; i < tensors.Length; i++)
            if (tensors[i] is { } t) _saved[i] = SavedTensor.Pack(t);
    }

    /// <summary>Whether entry <paramref name="i"/> of what was saved holds a tensor (not null).</summary>
    private protected bool HasSaved(int i) => _saved is { } saved && i < saved.Length && saved[i].Tensor is not null;

    /// <summary>Saved tensor <paramref name="i"/>, checked against in-place changes since it was saved.</summary>
    protected Tensor Saved(int i)
    {
        if (Released) throw FreedGraphError();
        var saved = _saved![i];
        // A recomputed tensor is fetched once per backward of this node (the engine forgets it right after), so
        // memory is held only while this node runs.
        if (saved.Handle is { } handle) return (_unpacked ??= new Tensor?[_saved.Length])[i] ??= handle.Unpack(Name);
        var tensor = saved.Tensor ?? throw new InvalidOperationException($"{Name} did not save input {i}.");
        int now = tensor.Storage.Version;
        if (now != saved.Version) throw InPlaceError(tensor, saved.Version, now);
        return tensor;
    }

    /// <summary>
    /// Names both sides of an in-place misuse: this node, which saved the tensor (with its module and line), and the
    /// in-place op that changed it afterwards (with its line), plus the backward call that found it.
    /// </summary>
    private InvalidOperationException InPlaceError(Tensor tensor, int savedVersion, int now)
    {
        var storage = tensor.Storage;
        string where = DescribeOrigin();
        string saver = where.Length > 0 ? $"{Name} (created {where})" : $"{Name} (created where no call was recorded; run the forward pass under Autograd.DetectAnomaly() to record its stack)";
        string writer = storage.LastWriter switch
        {
            InPlaceCall call => $"{call.Op} at {call.File}:{call.Line}",
            string op => op,
            _ => "an in-place op",
        };
        string changes = now - savedVersion == 1 ? "once" : $"{now - savedVersion} times";
        string backward = Engine.CurrentBackwardSite is { IsLibrary: false } b ? $" Found by the backward pass called from {b}." : "";
        return new InvalidOperationException(
            $"A tensor needed for gradient computation has been modified by an in-place operation: {saver} saved a " +
            $"{tensor.DType.DisplayName()} tensor of shape {tensor.Shape} at version {savedVersion}; it was then changed in place {changes} " +
            $"(now version {now}), last by {writer}.{backward} Use the out-of-place form of the op, or clone the tensor before changing it." +
            (NodeOrigin.StackText(this) is { } stack ? $"\nForward stack of {Name}:\n{stack}" : ""));
    }

    internal InvalidOperationException FreedGraphError() => new(
        $"Trying to backward through the graph a second time ({Name} already freed the tensors it saved). " +
        "Pass retainGraph: true to the first Backward() call if you need to run backward twice.");

    /// <summary>
    /// Whether this node's backward cannot be differentiated: an op class declared <see cref="IOnceDifferentiable"/>,
    /// or a custom <see cref="Function"/> that declares itself so. The engine then refuses a double backward through it.
    /// </summary>
    internal virtual bool IsOnceDifferentiable => this is IOnceDifferentiable;

    /// <summary>Why <see cref="IsOnceDifferentiable"/> holds, for the error a double backward raises.</summary>
    internal virtual string OnceDifferentiableNote => OnceDifferentiableBackward.Reason(GetType());

    /// <summary>Computes the gradient of each input that needs one from the gradient of this node's output.</summary>
    /// <param name="gradOutput">∂L/∂(output), of the output's shape.</param>
    /// <param name="gradInputs">Set entry i to ∂L/∂(input i), of that input's shape; leave null for zero or unneeded.</param>
    protected internal abstract void Backward(Tensor gradOutput, Tensor?[] gradInputs);

    /// <summary>
    /// For a one-input node whose gradient fills only part of its input's shape (a slice's adjoint): adds
    /// <paramref name="gradOutput"/> straight into <paramref name="inputGradient"/>, the gradient its input has
    /// gathered so far from other consumers, instead of building a zero tensor of the input's full shape that the
    /// engine would then add. Called only by kernel-mode backward, with an <paramref name="inputGradient"/> no one
    /// else holds; returns false (and changes nothing) when the node cannot, and the engine runs
    /// <see cref="Backward"/> instead. Several slices of one tensor (q, k and v of a packed projection; h and c of an
    /// LSTM step) so cost one full-size gradient rather than one each plus their sums.
    /// </summary>
    internal virtual bool TryBackwardInto(Tensor gradOutput, Tensor inputGradient) => false;

    /// <summary>
    /// The forward-mode derivative (Jacobian-vector product) of this node's output: its tangent given the tangents of
    /// the inputs, written with ordinary tensor ops so that reverse mode can differentiate it in turn. Called while
    /// tangent propagation is suspended, so the ops it runs carry no tangents of their own.
    /// </summary>
    /// <param name="inputs">The inputs the node was created with (the primals).</param>
    /// <param name="tangents">Their tangents, of the inputs' shapes; null where an input's tangent is zero (at least one is not).</param>
    /// <param name="output">The output this node produced (to which the tangent belongs).</param>
    /// <returns>The output's tangent, of its shape; null for a zero tangent.</returns>
    protected internal virtual Tensor? Jvp(Tensor[] inputs, Tensor?[] tangents, Tensor output) =>
        throw new NotSupportedException($"{Name} has no forward-mode (JVP) rule, so tangents cannot flow through it.");

    /// <summary>
    /// The JVP obtained from the op's own backward, for ops whose forward-mode formula would repeat the backward's
    /// special cases (decompositions, products with zeros, ties): the backward is linear in its incoming gradient u,
    /// uᵀJ, so the gradient of ⟨uᵀJ, t⟩ with respect to u is J·t. It costs two backward passes of the op; under grad
    /// mode the result is recorded, so it can be differentiated again.
    /// </summary>
    protected Tensor? JvpThroughBackward(Tensor?[] tangents, Tensor output)
    {
        bool createGraph = Autograd.IsGradEnabled;
        var u = Tensor.ZerosLike(output).SetRequiresGrad();
        var grads = new Tensor?[Next.Length];
        Tensor? pairing = null;
        using (Autograd.EnableGrad())
        {
            Backward(u, grads);
            for (int i = 0; i < grads.Length; i++)
                if (tangents[i] is { } t && grads[i] is { } g)
                    pairing = ForwardAD.Plus(pairing, (g * t).Sum());
        }
        if (pairing is not { RequiresGrad: true }) return null;
        return Autograd.Grad([pairing], [u], createGraph: createGraph, allowUnused: true)[0];
    }

    /// <summary>
    /// Runs this node's own backward formula on <paramref name="gradOutput"/> without touching the graph: for an
    /// element-wise op, a gradient of ones gives its local derivative. Needs the saved tensors (before release).
    /// </summary>
    public Tensor?[] InputGradients(Tensor gradOutput)
    {
        var grads = new Tensor?[Next.Length];
        try
        {
            using (Autograd.NoGrad()) Backward(gradOutput, grads);
        }
        finally
        {
            ForgetUnpacked();
        }
        return grads;
    }

    /// <summary>Frees what backward needed; called after backward unless the graph is retained.</summary>
    internal virtual void Release()
    {
        if (_saved is { } saved) foreach (var s in saved) s.Drop();
        _saved = null;
        ForgetUnpacked();
        Released = true;
    }

    /// <summary>Lets go of the recomputed tensors this node's backward fetched (the engine calls it after each backward).</summary>
    internal void ForgetUnpacked()
    {
        if (_unpacked is not { } unpacked) return;
        _unpacked = null;
        foreach (var t in unpacked) if (t is not null) SavedMemoryMeter.Active?.Drop(t);
    }

    /// <summary>Makes this node the producer of <paramref name="output"/> and returns the output.</summary>
    internal Tensor Attach(Tensor output)
    {
        OutputSizes = output.Sizes;
        OutputDType = output.DType;
        // A node made only to carry tangents (no input needs a gradient) gives its output no history. The history is
        // set first, so that a tangent computed from the output records a graph through it.
        if (!_carriesTangentOnly) output.SetGradFn(this);
        if (_forward is var (inputs, tangents))
        {
            _forward = null;
            ForwardAD.Propagate(this, inputs, tangents, output);
        }
        return output;
    }

    /// <summary>Adds a hook run after this node's backward, with the gradients it produced and received.</summary>
    public RemovableHandle RegisterPostHook(Action<Node, Tensor, IReadOnlyList<Tensor?>> hook)
    {
        (PostHooks ??= []).Add(hook);
        return new RemovableHandle(() => PostHooks?.Remove(hook));
    }

    public override string ToString() => $"<{Name}>";
}

/// <summary>Undoes a registration (a hook) when disposed or removed.</summary>
public sealed class RemovableHandle(Action remove) : IDisposable
{
    private Action? _remove = remove;

    public void Remove()
    {
        _remove?.Invoke();
        _remove = null;
    }

    public void Dispose() => Remove();
}
