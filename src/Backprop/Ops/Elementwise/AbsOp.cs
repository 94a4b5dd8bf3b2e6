using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class AbsOp : Node, IGradchecked
{
    private AbsOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Abs, x);
        return Autograd.IsRecording(x) ? new AbsOp(x, x).Attach(y) : y;
    }

    // |x|′ = sign(x), taking 0 at x = 0.
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * Saved(0).Sign();

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * x[0].Sign();

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Abs", x => x[0].Abs(), GradcheckInput.NonZero(3, 4)),
        new("Abs transposed", x => x[0].Abs(), GradcheckInput.NonZero(2, 3) with { Layout = InputLayout.Transposed }),
    ];
}
