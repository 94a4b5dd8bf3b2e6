namespace Backprop;

/// <summary>
/// The node a leaf tensor's gradient flows into: it adds the incoming gradient to the leaf's <see cref="Tensor.Grad"/>.
/// One per leaf, created on first use and kept across backward passes.
/// </summary>
internal sealed class AccumulateGrad : Node
{
    public AccumulateGrad(Tensor leaf) : base(false)
    {
        Leaf = leaf;
        OutputSizes = leaf.Sizes;
        OutputDType = leaf.DType;
    }

    public Tensor Leaf { get; }

    public override string Name => "AccumulateGrad";

    protected internal override void Backward(Tensor gradOutput, Tensor?[] gradInputs)
    {
        if (Autograd.IsGradEnabled)
        {
            // Building a graph of the gradient (createGraph): keep the history, never write in place.
            Leaf.Grad = Leaf.Grad is null ? gradOutput : Leaf.Grad + gradOutput;
            return;
        }
        if (Leaf.Grad is null)
        {
            // A gradient its producer allocated for this edge alone (and no hook saw) becomes the leaf's Grad as it is;
            // any other may be shared, so the leaf gets its own copy.
            if (gradOutput.IsExclusiveGradient && gradOutput.IsContiguous && !gradOutput.IsView)
            {
                gradOutput.IsExclusiveGradient = false;
                Leaf.Grad = gradOutput;
            }
            else Leaf.Grad = gradOutput.Clone();
        }
        else if (Leaf.Grad.RequiresGrad)
            Leaf.Grad = Leaf.Grad.Detach() + gradOutput;
        else
            Leaf.Grad.AccumulateInPlace(gradOutput);
    }

    internal override void Release()
    {
        // The accumulator outlives every graph that reaches its leaf.
    }
}
