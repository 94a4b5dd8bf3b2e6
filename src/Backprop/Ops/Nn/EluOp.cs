using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class EluOp : Node, IGradchecked
{
    private readonly double _alpha;

    private EluOp(Tensor x, Tensor y, double alpha) : base(x)
    {
        _alpha = alpha;
        Save(x, y);
    }

    public static Tensor Apply(Tensor x, double alpha)
    {
        var y = Kernels.Unary(UnaryOp.Elu, x, alpha);
        return Autograd.IsRecording(x) ? new EluOp(x, y, alpha).Attach(y) : y;
    }

    // α·eˣ = y + α where x ≤ 0, else 1 (PyTorch's elu_backward tests x ≤ 0, so a NaN input passes g through).
    // Selected with Where: blending the two by a 0/1 mask would give 0·∞ = NaN at x = +∞, where y + α is infinite.
    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = Tensor.Where(Saved(0).Le(0.0), g * (Saved(1) + _alpha), g);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Tensor.Where(x[0].Le(0.0), t[0]! * (y + _alpha), t[0]!);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Elu", x => x[0].Elu(), GradcheckInput.NonZero(3, 4)),
        new("Elu alpha 0.5", x => x[0].Elu(0.5), GradcheckInput.NonZero(5) with { Layout = InputLayout.Strided }),
    ];
}
