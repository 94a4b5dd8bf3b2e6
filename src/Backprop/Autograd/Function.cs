namespace Backprop;

/// <summary>
/// A differentiable function defined by its forward and backward (torch.autograd.Function), for an op the library
/// lacks or a gradient it should compute differently. <see cref="Forward"/> runs without recording, on the inputs as
/// given; <see cref="Backward"/> receives ∂L/∂output and returns ∂L/∂input for each input. Write backward with
/// Tensor ops and the function is twice differentiable, as a built-in op; a function whose backward cannot be
/// differentiated implements <see cref="IOnceDifferentiable"/> and a double backward through it throws.
/// </summary>
/// <remarks>
/// Non-tensor arguments belong in the function object's constructor (<c>new Clamp(0, 1).Apply(x)</c>); what one call's
/// forward computes for its backward goes into the <see cref="FunctionContext"/>, so one object can be applied many
/// times. <see cref="Diagnostics.Gradcheck"/> and <see cref="Diagnostics.Gradgradcheck"/> check it like any op.
/// </remarks>
public abstract class Function
{
    /// <summary>Computes the output from the inputs (recording is off). Save what backward needs in <paramref name="ctx"/>.</summary>
    protected abstract Tensor Forward(FunctionContext ctx, Tensor[] inputs);

    /// <summary>
    /// ∂L/∂input for each input from ∂L/∂output: one entry per input, null where an input needs no gradient
    /// (<see cref="FunctionContext.NeedsInputGrad"/> says which do). Each gradient has its input's shape (or one that
    /// broadcasts to it: it is summed back).
    /// </summary>
    protected abstract Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput);

    /// <summary>
    /// The forward-mode rule (optional): the output's tangent J·t from the inputs' tangents (null where an input's
    /// tangent is zero), for dual inputs under <see cref="ForwardAD"/>. It runs after <see cref="Forward"/>, with the same
    /// context, and may return null for a zero tangent. A function that does not override it fails on dual inputs.
    /// </summary>
    protected virtual Tensor? Jvp(FunctionContext ctx, Tensor?[] inputTangents) =>
        throw new NotSupportedException($"{FunctionNode.NameOf(GetType())} has no forward-mode rule: override Jvp to use it with dual tensors (ForwardAD).");

    /// <summary>Runs the function, recording one node for its backward when an input requires grad (or carries a tangent).</summary>
    public Tensor Apply(params Tensor[] inputs)
    {
        var outputs = FunctionCall.Run(this, inputs, ctx => [Forward(ctx, inputs)], (ctx, grads) => Backward(ctx, grads[0]),
            (ctx, tangents) => [Jvp(ctx, tangents)]);
        return outputs[0];
    }
}

/// <summary>
/// A differentiable function with several outputs (torch.autograd.Function returning a tuple). Backward receives one
/// gradient per output: zeros for an output that did not reach the loss or was marked non-differentiable.
/// </summary>
public abstract class MultiOutputFunction
{
    /// <summary>Computes the outputs from the inputs (recording is off). Save what backward needs in <paramref name="ctx"/>.</summary>
    protected abstract Tensor[] Forward(FunctionContext ctx, Tensor[] inputs);

    /// <summary>∂L/∂input for each input (null where none is needed) from ∂L/∂output for each output.</summary>
    protected abstract Tensor?[] Backward(FunctionContext ctx, Tensor[] gradOutputs);

    /// <summary>
    /// The forward-mode rule (optional): one tangent per output (null for zero; ignored for non-differentiable
    /// outputs) from the inputs' tangents. A function that does not override it fails on dual inputs.
    /// </summary>
    protected virtual Tensor?[] Jvp(FunctionContext ctx, Tensor?[] inputTangents) =>
        throw new NotSupportedException($"{FunctionNode.NameOf(GetType())} has no forward-mode rule: override Jvp to use it with dual tensors (ForwardAD).");

    /// <summary>Runs the function, recording one node for its backward when an input requires grad (or carries a tangent).</summary>
    public Tensor[] Apply(params Tensor[] inputs) =>
        FunctionCall.Run(this, inputs, ctx => Forward(ctx, inputs), Backward, Jvp);
}

/// <summary>
/// What one call of a custom function keeps between forward and backward: the saved tensors (checked against
/// in-place changes as a built-in op's are), which inputs need gradients, and which outputs are not differentiable.
/// </summary>
public sealed class FunctionContext
{
    private readonly bool[] _needsInputGrad;
    private Tensor?[] _unrecorded = [];
    internal readonly HashSet<Tensor> NonDifferentiable = new(ReferenceEqualityComparer.Instance);

    internal FunctionContext(FunctionNode? node, bool[] needsInputGrad)
    {
        Node = node;
        _needsInputGrad = needsInputGrad;
    }

    internal FunctionNode? Node { get; }

    /// <summary>Whether input <paramref name="input"/> needs a gradient (backward may skip the others).</summary>
    public bool NeedsInputGrad(int input) => _needsInputGrad[input];

    /// <summary>Whether any input needs a gradient.</summary>
    public bool NeedsAnyInputGrad => Array.IndexOf(_needsInputGrad, true) >= 0;

    /// <summary>Any non-tensor value forward computes for backward (a shape, a flag).</summary>
    public object? State { get; set; }

    /// <summary>
    /// Keeps tensors for backward (inputs, outputs or intermediates; nulls allowed). Each is saved at its current
    /// version: changing it in place afterwards makes backward throw naming this function, instead of using the new values.
    /// </summary>
    public void SaveForBackward(params Tensor?[] tensors)
    {
        if (Node is { } node) node.SaveTensors(tensors);
        else _unrecorded = (Tensor?[])tensors.Clone();
    }

    /// <summary>The tensors given to <see cref="SaveForBackward"/>, in order, each checked against in-place changes.</summary>
    public IReadOnlyList<Tensor?> SavedTensors => Node is { } node ? node.SavedTensorList() : _unrecorded;

    /// <summary>
    /// Declares outputs that carry no gradient (indices, masks, counts): they do not require grad, and backward
    /// receives zeros for them. Integer and Bool outputs are never differentiable.
    /// </summary>
    public void MarkNonDifferentiable(params Tensor[] outputs)
    {
        foreach (var output in outputs) NonDifferentiable.Add(output);
    }
}
