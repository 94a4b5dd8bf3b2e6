namespace Backprop;

/// <summary>
/// Runs backward passes: finds the nodes reachable from the roots, counts how many gradients each will receive,
/// then runs every node exactly once, when all its incoming gradients have been summed, latest-created first.
/// It knows no op by name: each node computes its own input gradients.
/// </summary>
internal static class Engine
{
    private static int s_stamp;

    /// <summary>Per-thread scratch reused by every backward pass (a hook that starts another backward gets its own).</summary>
    [ThreadStatic] private static Scratch? t_scratch;

    /// <summary>The backward pass running on this thread (the innermost, when a hook started another).</summary>
    [ThreadStatic] private static Scratch? t_running;

    private static int s_runs;

    /// <summary>The id of the backward pass running on this thread; 0 outside any.</summary>
    internal static int CurrentRunId => t_running?.RunId ?? 0;

    /// <summary>Has <paramref name="frame"/>'s leftover recomputed tensors freed when the running pass ends.</summary>
    internal static void FreeAfterRun(CheckpointFrame frame)
    {
        if (t_running is { } run && !run.Recomputed.Contains(frame)) run.Recomputed.Add(frame);
    }

    /// <summary>The line that called the backward pass running on this thread (for error messages), when known.</summary>
    [ThreadStatic] private static string? t_backwardFile;
    [ThreadStatic] private static int t_backwardLine;

    /// <summary>Backward passes running on this thread (a hook may start another), and what runs when the outermost ends.</summary>
    [ThreadStatic] private static int t_depth;
    [ThreadStatic] private static List<Action>? t_callbacks;

    /// <summary>Queues <paramref name="callback"/> to run when the outermost backward pass running on this thread has finished.</summary>
    internal static void QueueCallback(Action callback)
    {
        if (t_depth == 0)
            throw new InvalidOperationException("QueueCallback: no backward pass is running on this thread; queue callbacks from a gradient hook.");
        (t_callbacks ??= []).Add(callback);
    }

    private static void RunCallbacks()
    {
        // A callback may queue another; each runs once, in the order queued.
        for (int i = 0; t_callbacks is { } callbacks && i < callbacks.Count; i++) callbacks[i]();
    }

    internal static CallSite? CurrentBackwardSite => t_backwardFile is { } file ? new CallSite(file, t_backwardLine) : null;

    private sealed class Scratch
    {
        public readonly Stack<Node> Stack = new();
        public readonly PriorityQueue<Node, long> Ready = new();
        public readonly List<(Node Node, Tensor Grad)> Roots = [];
        public bool InUse;

        /// <summary>Identifies this backward pass to checkpoint regions, which recompute once per pass.</summary>
        public int RunId;

        /// <summary>Checkpoint regions recomputed during this pass; what they still hold is freed when it ends.</summary>
        public readonly List<CheckpointFrame> Recomputed = [];

        // Gradient slots by arity, reused from node to node (a node's slots are consumed before the next runs).
        private readonly Tensor?[][] _slots = [[], new Tensor?[1], new Tensor?[2], new Tensor?[3], new Tensor?[4]];

        public Tensor?[] Slots(int arity) => arity < _slots.Length ? _slots[arity] : new Tensor?[arity];

        public void Clear()
        {
            Stack.Clear();
            Ready.Clear();
            Roots.Clear();
            foreach (var frame in Recomputed) frame.ForgetRecomputed();
            Recomputed.Clear();
            foreach (var slots in _slots) Array.Clear(slots);
            InUse = false;
        }
    }

    /// <param name="captures">
    /// When given (functional <see cref="Autograd.Grad"/>), the gradient arriving at each of these nodes is captured
    /// instead of being accumulated into leaves, and no leaf's <c>Grad</c> changes.
    /// </param>
    /// <param name="callerFile">The file of the line that called Backward, named by error messages.</param>
    public static void Run(IReadOnlyList<Tensor> roots, IReadOnlyList<Tensor> rootGrads, bool retainGraph, bool createGraph,
        Dictionary<Node, Tensor?>? captures = null, string? callerFile = null, int callerLine = 0)
    {
        var scratch = t_scratch is { InUse: false } cached ? cached : new Scratch();
        t_scratch ??= scratch;
        scratch.InUse = true;
        scratch.RunId = Interlocked.Increment(ref s_runs);
        var previousRun = t_running;
        t_running = scratch;
        var (previousFile, previousLine) = (t_backwardFile, t_backwardLine);
        (t_backwardFile, t_backwardLine) = (callerFile, callerLine);
        t_depth++;
        bool outermost = false;
        try
        {
            Run(scratch, roots, rootGrads, retainGraph, createGraph, captures);
            if (t_depth == 1)
            {
                RunCallbacks();
                outermost = true;
            }
        }
        finally
        {
            // A pass that threw drops what it queued: the callbacks finish work a complete pass started.
            if (--t_depth == 0) t_callbacks?.Clear();
            (t_backwardFile, t_backwardLine) = (previousFile, previousLine);
            t_running = previousRun;
            // Clear also empties the gradient slots, which a node that threw (a non-finite check, an in-place error)
            // leaves filled: the next backward on this thread would find them as gradients its own node never set.
            scratch.Clear();
        }
        if (outermost) BackwardFinished?.Invoke();
    }

    /// <summary>
    /// Raised on the calling thread after an outermost backward pass completes, when the graph it freed has just become
    /// garbage: a backend's memory pool reclaims its buffers then rather than in the middle of the next forward pass.
    /// </summary>
    internal static event Action? BackwardFinished;

    private static void Run(Scratch scratch, IReadOnlyList<Tensor> roots, IReadOnlyList<Tensor> rootGrads, bool retainGraph, bool createGraph,
        Dictionary<Node, Tensor?>? captures)
    {
        int stamp = Interlocked.Increment(ref s_stamp);
        var stack = scratch.Stack;
        var rootNodes = scratch.Roots;
        for (int i = 0; i < roots.Count; i++)
        {
            var node = roots[i].GradEdge ?? throw new InvalidOperationException(
                $"Backward: the tensor of shape {roots[i].Shape} does not require grad and has no grad_fn, so there is nothing to differentiate. " +
                "Set RequiresGrad = true on the parameters (or inputs) you want gradients for, and do not compute it under NoGrad().");
            rootNodes.Add((node, rootGrads[i]));
            if (node.VisitStamp != stamp)
            {
                node.VisitStamp = stamp;
                node.Dependencies = 0;
                node.PendingGrad = null;
                stack.Push(node);
            }
        }

        // Functional Grad runs only the nodes through which a captured input is reached (as torch.autograd.grad), so
        // the rest of the graph is neither computed nor freed (e.g. the history of a forward-mode rule's inputs).
        if (captures is not null) MarkNeeded(stack, captures, stamp);

        // Count, for every reachable node, the edges that will deliver a gradient to it.
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            foreach (var next in node.Next)
            {
                if (next is null || (captures is not null && next.NeededStamp != stamp)) continue;
                if (next.VisitStamp != stamp)
                {
                    next.VisitStamp = stamp;
                    next.Dependencies = 0;
                    next.PendingGrad = null;
                    stack.Push(next);
                }
                next.Dependencies++;
            }
        }

        var ready = scratch.Ready;
        foreach (var (node, grad) in rootNodes)
        {
            if (captures is not null && node.NeededStamp != stamp) continue;
            bool first = node.PendingGrad is null;
            node.PendingGrad = first ? grad : node.PendingGrad! + grad;
            if (first && node.Dependencies == 0) ready.Enqueue(node, -node.Sequence);
        }

        using var mode = createGraph ? Autograd.EnableGrad() : Autograd.NoGrad();
        // Backward formulas work in the dtypes their forward ops used, whatever autocast scope backward is called in.
        using var autocast = Autocast.IsEnabled ? Autocast.Disable() : default;
        bool checkFinite = Autograd.IsCheckingNonFinite;
        while (ready.Count > 0)
        {
            var node = ready.Dequeue();
            var grad = node.PendingGrad;
            node.PendingGrad = null;
            // Post hooks may keep the array they are shown, so they get a fresh one.
            Tensor?[] inputGrads = node.PostHooks is null ? scratch.Slots(node.Next.Length) : new Tensor?[node.Next.Length];

            if (grad is not null)
            {
                if (node.PreHooks is { } hooks)
                {
                    grad.IsExclusiveGradient = false;
                    foreach (var hook in hooks.ToArray())
                        grad = hook(grad) ?? grad;
                    grad.IsExclusiveGradient = false;
                }
                if (node.RetainGradTarget is { } retained)
                    retained.Grad = retained.Grad is null ? (createGraph ? grad : grad.Clone()) : retained.Grad + grad;

                if (captures is not null && captures.ContainsKey(node)) captures[node] = grad;
                bool leafUntouched = captures is not null && node is AccumulateGrad;
                if (!leafUntouched)
                {
                    if (node.Released) throw node.FreedGraphError();
                    try
                    {
                        if (createGraph && node.IsOnceDifferentiable) BackwardOnce(node, grad, inputGrads);
                        else if (!AddedIntoGathered(node, grad, captures is not null, stamp)) node.Backward(grad, inputGrads);
                    }
                    finally
                    {
                        node.ForgetUnpacked();
                    }
                    if (checkFinite) AnomalyCheck.AfterBackward(node, grad, inputGrads);
                }
                // A leaf left untouched (functional Grad) accumulated nothing, so its post-accumulate hooks stay quiet.
                if (node.PostHooks is { } postHooks && !leafUntouched)
                {
                    foreach (var g in inputGrads) if (g is not null) g.IsExclusiveGradient = false;
                    foreach (var hook in postHooks.ToArray())
                        hook(node, grad, inputGrads);
                }
            }

            for (int i = 0; i < node.Next.Length; i++)
            {
                var next = node.Next[i];
                var g = inputGrads[i];
                inputGrads[i] = null;
                if (next is null || (captures is not null && next.NeededStamp != stamp)) continue;
                if (g is not null)
                {
                    CheckGradient(node, i, next, g);
                    // A tensor sent along two edges is shared, whatever its producer claimed.
                    for (int j = i + 1; j < inputGrads.Length; j++)
                        if (ReferenceEquals(inputGrads[j], g)) g.IsExclusiveGradient = false;
                    if (next.PendingGrad is null) next.PendingGrad = g;
                    else
                    {
                        var sum = next.PendingGrad + g;
                        sum.IsExclusiveGradient = true;
                        next.PendingGrad = sum;
                    }
                }
                if (--next.Dependencies == 0) ready.Enqueue(next, -next.Sequence);
            }
            if (!retainGraph) node.Release();
        }
    }

    /// <summary>
    /// Kernel mode: lets a node whose gradient covers part of its input add it into the gradient that input has gathered
    /// so far (<see cref="Node.TryBackwardInto"/>), when that gradient is the engine's own to change and no hook watches.
    /// Not when backward records (createGraph, or tangents flowing through it): an in-place add would bypass both.
    /// </summary>
    private static bool AddedIntoGathered(Node node, Tensor grad, bool pruned, int stamp) =>
        !Autograd.BackwardRecords && node.PostHooks is null && node.Next.Length == 1
        && node.Next[0] is { PendingGrad: { IsExclusiveGradient: true } gathered } next
        && (!pruned || next.NeededStamp == stamp)
        && node.TryBackwardInto(grad, gathered);

    /// <summary>
    /// Marks (NeededStamp = stamp) every node from which a captured node is reachable, by a depth-first walk from the
    /// roots on the stack that decides a node after all its inputs' producers (the graph is acyclic). Leaves the stack
    /// as it found it.
    /// </summary>
    private static void MarkNeeded(Stack<Node> roots, Dictionary<Node, Tensor?> captures, int stamp)
    {
        var walk = new Stack<(Node Node, int Child)>();
        foreach (var root in roots)
        {
            if (root.WalkStamp == stamp) continue;
            root.WalkStamp = stamp;
            walk.Push((root, 0));
            while (walk.Count > 0)
            {
                var (node, child) = walk.Pop();
                if (child < node.Next.Length)
                {
                    walk.Push((node, child + 1));
                    if (node.Next[child] is { } next && next.WalkStamp != stamp)
                    {
                        next.WalkStamp = stamp;
                        walk.Push((next, 0));
                    }
                    continue;
                }
                // A once-differentiable op's marker has no edges but must run where reached: it is the error.
                bool needed = captures.ContainsKey(node) || node is OnceDifferentiableBackward;
                foreach (var next in node.Next) needed |= next is not null && next.NeededStamp == stamp;
                if (needed) node.NeededStamp = stamp;
            }
        }
    }

    /// <summary>
    /// Runs a once-differentiable op's backward under <c>createGraph</c>: without recording (it could only record a
    /// wrong graph), then, when the gradients depend on anything that requires grad (the incoming gradient or the op's
    /// inputs), gives each one a producer that throws if a later backward reaches it. A gradient nobody differentiates
    /// is used as computed; one that someone does is an error naming the op, never a silent zero.
    /// </summary>
    private static void BackwardOnce(Node node, Tensor grad, Tensor?[] inputGrads)
    {
        using (Autograd.NoGrad()) node.Backward(grad, inputGrads);
        if (grad.GradEdge is null && Array.TrueForAll(node.Next, n => n is null)) return;
        for (int i = 0; i < inputGrads.Length; i++)
            if (inputGrads[i] is { } g)
                // A fresh alias carries the marker, so a tensor the backward shares (e.g. the incoming gradient) keeps its own history.
                inputGrads[i] = new OnceDifferentiableBackward(node).Attach(g.Detach());
    }

    private static void CheckGradient(Node node, int input, Node next, Tensor grad)
    {
        if (!grad.Sizes.AsSpan().SequenceEqual(next.OutputSizes))
            throw new InvalidOperationException(
                $"{node.Name} returned a gradient of shape {grad.Shape} for input {input}, whose shape is {next.OutputShape}.");
        if (grad.DType != next.OutputDType)
            throw new InvalidOperationException(
                $"{node.Name} returned a {grad.DType.DisplayName()} gradient for input {input}, which is {next.OutputDType.DisplayName()}.");
    }
}
