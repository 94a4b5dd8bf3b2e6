using Backprop.Ops;

namespace Backprop.Nn;

/// <summary>
/// The full backward hooks of one forward call. Each tensor input and output that requires grad is passed through an
/// identity view, whose node's gradient (seen by a tensor hook) is then exactly the gradient with respect to that
/// input or output of this call, whatever else uses the same tensor.
/// </summary>
/// <remarks>
/// The engine runs ready nodes latest-created first, and every consumer of an alias was created after it; so when
/// the first of a group of aliases runs, every gradient the others will receive has already arrived (it waits in
/// their pending gradient). The first input alias to run therefore sees all input gradients at once, calls the hooks,
/// and hands any replacements to its siblings before they run, as PyTorch's single multi-input hook node does.
/// </remarks>
internal sealed class BackwardHookCall(Module module, FullBackwardHook[] hooks)
{
    private Node?[] _inputs = [];
    private Node?[] _outputs = [];
    private Tensor?[] _gradOutputs = [];
    private int _outputPass;
    private int _inputPass;

    public Tensor?[] WrapInputs(Tensor?[] inputs)
    {
        _inputs = new Node?[inputs.Length];
        return Wrap(inputs, _inputs, OnInputGradient);
    }

    public Tensor?[] WrapOutputs(Tensor?[] outputs)
    {
        _outputs = new Node?[outputs.Length];
        return Wrap(outputs, _outputs, OnOutputGradient);
    }

    private static Tensor?[] Wrap(Tensor?[] tensors, Node?[] nodes, Func<int, Node, Tensor, Tensor?> onGradient)
    {
        var wrapped = (Tensor?[])tensors.Clone();
        for (int i = 0; i < tensors.Length; i++)
        {
            if (tensors[i] is not { RequiresGrad: true } t) continue;
            var alias = ViewOp.Apply(t, t.Sizes);
            var node = alias.GradFn!;
            int index = i;
            (node.PreHooks ??= []).Add(g => onGradient(index, node, g));
            nodes[i] = node;
            wrapped[i] = alias;
        }
        return wrapped;
    }

    private Tensor? OnOutputGradient(int index, Node node, Tensor grad)
    {
        int pass = node.VisitStamp;
        if (pass == _outputPass) return null;
        _outputPass = pass;
        _gradOutputs = Collect(_outputs, index, grad, pass);
        if (Array.TrueForAll(_inputs, n => n is null))
        {
            var result = RunHooks(new Tensor?[_inputs.Length], _gradOutputs);
            if (result.Any(g => g is not null))
                throw new InvalidOperationException(
                    $"A full backward hook of {module.QualifiedName} returned input gradients, but no input of that call requires grad.");
        }
        return null;
    }

    private Tensor? OnInputGradient(int index, Node node, Tensor grad)
    {
        int pass = node.VisitStamp;
        if (pass == _inputPass) return null; // a sibling ran the hooks this pass and left this gradient as they decided
        _inputPass = pass;
        var gradOutputs = _outputPass == pass ? _gradOutputs : new Tensor?[_outputs.Length];
        var result = RunHooks(Collect(_inputs, index, grad, pass), gradOutputs);
        for (int j = 0; j < _inputs.Length; j++)
        {
            if (j == index) continue;
            if (_inputs[j] is { } sibling && sibling.VisitStamp == pass) sibling.PendingGrad = result[j];
            else if (result[j] is not null)
                throw new InvalidOperationException(
                    $"A full backward hook of {module.QualifiedName} returned a gradient for input {j}, which receives no gradient in this backward pass.");
        }
        return result[index] ?? Tensor.ZerosLike(grad);
    }

    private static Tensor?[] Collect(Node?[] nodes, int current, Tensor grad, int pass)
    {
        var grads = new Tensor?[nodes.Length];
        for (int i = 0; i < nodes.Length; i++)
            grads[i] = i == current ? grad : nodes[i] is { } n && n.VisitStamp == pass ? n.PendingGrad : null;
        return grads;
    }

    private Tensor?[] RunHooks(Tensor?[] gradInputs, Tensor?[] gradOutputs)
    {
        var current = gradInputs;
        foreach (var hook in hooks)
        {
            if (hook(module, current, gradOutputs) is not { } replaced) continue;
            if (replaced.Count != current.Length)
                throw new InvalidOperationException(
                    $"A full backward hook of {module.QualifiedName} returned {replaced.Count} input gradients; the call has {current.Length} inputs.");
            var next = new Tensor?[replaced.Count];
            for (int i = 0; i < next.Length; i++)
            {
                if (replaced[i] is not { } g) continue;
                if (_inputs[i] is not { } node)
                {
                    if (!ReferenceEquals(g, current[i]))
                        throw new InvalidOperationException(
                            $"A full backward hook of {module.QualifiedName} returned a gradient for input {i}, which does not require grad.");
                    continue;
                }
                if (!g.Sizes.AsSpan().SequenceEqual(node.OutputSizes))
                    throw new ShapeMismatchException("FullBackwardHook",
                        $"{module.QualifiedName}: the hook returned a gradient of shape {g.Shape} for input {i}, whose shape is {node.OutputShape}");
                next[i] = g;
            }
            current = next;
        }
        return current;
    }
}
