using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class DivOp : Node, IGradchecked
{
    private DivOp(Tensor a, Tensor b) : base(a, b) => Save(NeedsGrad(1) ? a : null, b);

    public static Tensor Apply(Tensor a, Tensor b)
    {
        var y = Kernels.Binary(BinaryOp.Div, a, b);
        return Autograd.IsRecording(a, b) ? new DivOp(a, b).Attach(y) : y;
    }

    // y = a / b: ∂y/∂a = 1/b, ∂y/∂b = −a/b², evaluated as −(a/b)/b (as PyTorch does): b² overflows (or underflows)
    // for |b| beyond about 1.8e19 in float32 while the gradient itself is representable.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var b = Saved(1);
        if (NeedsGrad(0)) grads[0] = g / b;
        if (NeedsGrad(1)) grads[1] = -g * (Saved(0) / b / b);
    }

    // y = a/b: ta/b − tb·(y/b), as PyTorch's div JVP.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => ForwardAD.Plus(t[0] is { } ta ? ta / x[1] : null, t[1] is { } tb ? -tb * (y / x[1]) : null);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Div", x => x[0] / x[1], [3, 4], GradcheckInput.NonZero(3, 4)),
        new("Div broadcast", x => x[0] / x[1], [3, 4], GradcheckInput.NonZero(3, 1)),
        new("Div scalar numerator", x => 2.0 / x[0], GradcheckInput.NonZero(4)),
        new("Div transposed", x => x[0] / x[1], GradcheckInput.Transposed(3, 4), GradcheckInput.NonZero(3, 4)),
    ];
}
