namespace Backprop;

/// <summary>
/// Declares an op class once-differentiable: its backward gives correct first derivatives but cannot itself be
/// differentiated. Under <c>createGraph</c> the engine runs such a backward without recording and marks each
/// gradient it returns, so a later backward through one throws instead of silently treating the gradient as a
/// constant. Every other op must pass the second-order gradcheck table; this is for the rare op where a twice
/// differentiable backward is not worth its cost, and <see cref="OnceDifferentiableReason"/> says why.
/// </summary>
public interface IOnceDifferentiable
{
    /// <summary>Why the op's backward is not differentiable, for the error and for review.</summary>
    static abstract string OnceDifferentiableReason { get; }
}

/// <summary>
/// The producer of a gradient returned by a once-differentiable op's backward under <c>createGraph</c>. Reaching
/// it in a backward pass means a derivative of that gradient is needed, which the op cannot give, so it throws.
/// </summary>
internal sealed class OnceDifferentiableBackward(Node op) : Node(true)
{
    public override string Name => $"OnceDifferentiableBackward({op.Name})";

    protected internal override void Backward(Tensor gradOutput, Tensor?[] gradInputs) =>
        throw new InvalidOperationException(
            $"{op.Name} is once-differentiable: its backward cannot be differentiated (createGraph). " +
            $"{op.OnceDifferentiableNote} Its gradient was used in a backward pass{(op.DescribeOrigin() is { Length: > 0 } where ? $" (the op was created {where})" : "")}.");

    /// <summary>The reason an op class gives for being once-differentiable.</summary>
    internal static string Reason(Type opType) =>
        typeof(IOnceDifferentiable).IsAssignableFrom(opType)
            ? opType.GetInterfaceMap(typeof(IOnceDifferentiable)).TargetMethods[0].Invoke(null, null) as string ?? ""
            : "";
}
