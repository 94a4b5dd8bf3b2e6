using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>atan2(a, b): the angle of the point (x = b, y = a), as torch.atan2(input, other).</summary>
internal sealed class Atan2Op : Node, IGradchecked
{
    private Atan2Op(Tensor a, Tensor b) : base(a, b) => Save(a, b);

    public static Tensor Apply(Tensor a, Tensor b)
    {
        var y = Kernels.Binary(BinaryOp.Atan2, a, b);
        return Autograd.IsRecording(a, b) ? new Atan2Op(a, b).Attach(y) : y;
    }

    // PyTorch's atan2_backward: with r = 1/(a² + b²), ∂/∂a = b·r and ∂/∂b = −a·r. Nothing is masked, so at the
    // origin both are 0·∞ = NaN, as in PyTorch (the angle has no limit there).
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var a = Saved(0);
        var b = Saved(1);
        var reciprocal = 1.0 / (a * a + b * b);
        if (NeedsGrad(0)) grads[0] = g * b * reciprocal;
        if (NeedsGrad(1)) grads[1] = g * -a * reciprocal;
    }

    // ∂/∂a·ta + ∂/∂b·tb = (b·ta − a·tb)/(a² + b²), the backward's partials.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var (a, b) = (x[0], x[1]);
        var reciprocal = 1.0 / (a * a + b * b);
        return ForwardAD.Plus(t[0] is { } ta ? ta * b * reciprocal : null, t[1] is { } tb ? tb * -a * reciprocal : null);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Atan2", x => Tensor.Atan2(x[0], x[1]), [3, 4], GradcheckInput.NonZero(3, 4)),
        new("Atan2 broadcast transposed", x => Tensor.Atan2(x[0], x[1]), GradcheckInput.Transposed(3, 4), GradcheckInput.NonZero(4)),
    ];
}
