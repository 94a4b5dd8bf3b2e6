namespace Backprop.Diagnostics;

/// <summary>One node's step of a backward pass, as seen by a hook on the real graph.</summary>
/// <param name="Order">Position in the backward pass (0 = first node run).</param>
/// <param name="Output">The forward tensor this node produced, when it was named or traced (else null).</param>
/// <param name="GradOutput">The gradient arriving at the node's output: ∂L/∂output (δ for a layer's pre-activation).</param>
/// <param name="GradInputs">What the node sends to each input: ∂L/∂input (null where none is needed).</param>
/// <param name="LocalDerivative">For an element-wise op, ∂output/∂input at each element (its backward applied to ones).</param>
public sealed record BackwardStep(int Order, Node Node, Tensor? Output, Tensor GradOutput, IReadOnlyList<Tensor?> GradInputs,
    Tensor? LocalDerivative, IReadOnlyList<Tensor?> Inputs);

/// <summary>
/// Records every step of a backward pass through hooks on the graph's own nodes, so a student sees the chain rule
/// run: each node's incoming gradient, its local derivative, and what it passes on. Attach before calling Backward.
/// </summary>
public sealed class BackwardTrace : IDisposable
{
    private readonly List<BackwardStep> _steps = [];
    private readonly List<RemovableHandle> _handles = [];
    private readonly Dictionary<Node, Tensor> _outputs = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Node, Tensor?[]> _inputs = new(ReferenceEqualityComparer.Instance);

    private BackwardTrace() { }

    public IReadOnlyList<BackwardStep> Steps => _steps;

    /// <param name="root">The tensor Backward will be called on.</param>
    /// <param name="tensors">Forward tensors to show by name (each is matched to the node that produced it).</param>
    /// <param name="leaves">Parameters and inputs, matched to the edges that reach them.</param>
    public static BackwardTrace Attach(Tensor root, IEnumerable<Tensor> tensors, IEnumerable<Tensor> leaves)
    {
        var trace = new BackwardTrace();
        foreach (var t in tensors.Append(root))
            if (t.GradFn is { } fn) trace._outputs[fn] = t;
        var known = tensors.Concat(leaves).ToList();
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Node>();
        if (root.GradFn is { } start) stack.Push(start);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (!seen.Add(node)) continue;
            trace._inputs[node] = node.NextFunctions.Select(n => n is null ? null : known.FirstOrDefault(t => ReferenceEquals(t.GradFn ?? t.GradEdge, n))).ToArray();
            trace._handles.Add(node.RegisterPostHook(trace.Record));
            foreach (var next in node.NextFunctions)
                if (next is not null && next is not AccumulateGrad) stack.Push(next);
        }
        return trace;
    }

    private void Record(Node node, Tensor gradOutput, IReadOnlyList<Tensor?> gradInputs)
    {
        Tensor? local = null;
        bool elementwise = node.NextFunctions.Count(n => n is not null) == 1 && gradInputs.Count(g => g is not null) == 1
            && gradInputs.First(g => g is not null)!.Shape == gradOutput.Shape;
        if (elementwise)
        {
            var ones = Tensor.OnesLike(gradOutput);
            local = node.InputGradients(ones).First(g => g is not null)!.Clone();
        }
        _outputs.TryGetValue(node, out var output);
        _steps.Add(new BackwardStep(_steps.Count, node, output, gradOutput.Detach().Clone(),
            gradInputs.Select(g => g?.Detach().Clone()).ToArray(), local, _inputs.GetValueOrDefault(node) ?? []));
    }

    public void Dispose()
    {
        foreach (var h in _handles) h.Dispose();
        _handles.Clear();
    }
}
