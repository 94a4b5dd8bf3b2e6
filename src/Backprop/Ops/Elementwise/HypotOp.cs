using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>√(a² + b²), computed without overflow or underflow in the squares.</summary>
internal sealed class HypotOp : Node, IGradchecked
{
    private HypotOp(Tensor a, Tensor b, Tensor y) : base(a, b) => Save(a, b, y);

    public static Tensor Apply(Tensor a, Tensor b)
    {
        var y = Kernels.Binary(BinaryOp.Hypot, a, b);
        return Autograd.IsRecording(a, b) ? new HypotOp(a, b, y).Attach(y) : y;
    }

    // PyTorch's derivatives.yaml: ∂/∂a = a/h and ∂/∂b = b/h with h the saved output. At the origin that is 0/0 = NaN
    // in PyTorch too: the cone √(a² + b²) has no derivative there (its directional slopes are all 1).
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var h = Saved(2);
        if (NeedsGrad(0)) grads[0] = g * Saved(0) / h;
        if (NeedsGrad(1)) grads[1] = g * Saved(1) / h;
    }

    // (a·ta + b·tb)/h, the backward's partials (NaN at the origin, as there).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => ForwardAD.Plus(t[0] is { } ta ? ta * x[0] / y : null, t[1] is { } tb ? tb * x[1] / y : null);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Hypot", x => Tensor.Hypot(x[0], x[1]), GradcheckInput.NonZero(3, 4), [3, 4]),
        new("Hypot broadcast strided", x => Tensor.Hypot(x[0], x[1]), GradcheckInput.Strided(2, 3), GradcheckInput.NonZero(3)),
    ];
}
