using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class LogOp : Node, IGradchecked
{
    private LogOp(Tensor x, Tensor saved) : base(x) => Save(saved);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Log, x);
        return Autograd.IsRecording(x) ? new LogOp(x, x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g / Saved(0);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! / x[0];

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Log", x => x[0].Log(), GradcheckInput.Positive(3, 4)),
        new("Log strided", x => x[0].Log(), GradcheckInput.Positive(2, 3) with { Layout = InputLayout.Strided }),
    ];
}
