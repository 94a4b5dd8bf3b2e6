using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>Element-wise maximum or minimum of two tensors.</summary>
internal sealed class ExtremumPairOp : Node, IGradchecked
{
    private ExtremumPairOp(Tensor a, Tensor b) : base(a, b) => Save(a, b);

    public static Tensor Apply(Tensor a, Tensor b, bool max)
    {
        var y = Kernels.Binary(max ? BinaryOp.Maximum : BinaryOp.Minimum, a, b);
        return Autograd.IsRecording(a, b) ? new ExtremumPairOp(a, b) { IsMax = max }.Attach(y) : y;
    }

    private bool IsMax { get; init; }

    public override string Name => IsMax ? "MaximumBackward" : "MinimumBackward";

    // The chosen input takes the gradient and exact ties split it evenly, as in PyTorch's maximum/minimum backward:
    // each input's gradient is masked out only where it strictly loses, so where a NaN makes both comparisons false,
    // both inputs receive it. Masked with Where, so an infinite or NaN g leaves exact zeros, not 0·g.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var a = Saved(0);
        var b = Saved(1);
        var shared = Tensor.Where(a.Eq(b), g * 0.5, g);
        if (NeedsGrad(0)) grads[0] = Tensor.Where(IsMax ? a.Lt(b) : a.Gt(b), 0.0, shared);
        if (NeedsGrad(1)) grads[1] = Tensor.Where(IsMax ? a.Gt(b) : a.Lt(b), 0.0, shared);
    }

    // The chosen input's tangent; at exact ties the mean of both (the backward splits the gradient evenly there), and
    // where a NaN makes both comparisons false, the sum of both, as the backward sends the gradient to each.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var (a, b) = (x[0], x[1]);
        var (ta, tb) = (ForwardAD.OrZeros(t[0], a), ForwardAD.OrZeros(t[1], b));
        var aLoses = IsMax ? a.Lt(b) : a.Gt(b);
        var bLoses = IsMax ? a.Gt(b) : a.Lt(b);
        return Tensor.Where(a.Eq(b), (ta + tb) * 0.5, Tensor.Where(aLoses, 0.0, ta) + Tensor.Where(bLoses, 0.0, tb));
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Maximum", x => Tensor.Maximum(x[0], x[1]), [3, 4], [3, 4]),
        new("Minimum broadcast", x => Tensor.Minimum(x[0], x[1]), [3, 4], GradcheckInput.Transposed(4)),
    ];
}
