using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class LeakyReluOp : Node, IGradchecked
{
    private readonly double _slope;

    private LeakyReluOp(Tensor x, double slope) : base(x)
    {
        _slope = slope;
        Save(x);
    }

    public static Tensor Apply(Tensor x, double slope)
    {
        var y = Kernels.Unary(UnaryOp.LeakyRelu, x, slope);
        return Autograd.IsRecording(x) ? new LeakyReluOp(x, slope).Attach(y) : y;
    }

    // 1 where x > 0, the slope elsewhere.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var positive = Saved(0).Step();
        grads[0] = g * (positive * (1.0 - _slope) + _slope);
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * (x[0].Step() * (1.0 - _slope) + _slope);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("LeakyRelu", x => x[0].LeakyRelu(0.1), GradcheckInput.NonZero(3, 4)),
        new("LeakyRelu default slope strided", x => x[0].LeakyRelu(), GradcheckInput.NonZero(2, 3) with { Layout = InputLayout.Strided }),
    ];
}
