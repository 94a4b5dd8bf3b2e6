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

    // 1 where x > 0; α·eˣ = y + α elsewhere.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var positive = Saved(0).Step();
        var negativeSlope = Saved(1) + _alpha;
        grads[0] = g * (positive + (1.0 - positive) * negativeSlope);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Elu", x => x[0].Elu(), GradcheckInput.NonZero(3, 4)),
        new("Elu alpha 0.5", x => x[0].Elu(0.5), GradcheckInput.NonZero(5) with { Layout = InputLayout.Strided }),
    ];
}
