using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class SubOp : Node, IGradchecked
{
    private SubOp(Tensor a, Tensor b) : base(a, b) { }

    public static Tensor Apply(Tensor a, Tensor b)
    {
        var y = Kernels.Binary(BinaryOp.Sub, a, b);
        return Autograd.IsRecording(a, b) ? new SubOp(a, b).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        grads[0] = g;
        if (NeedsGrad(1)) grads[1] = -g;
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => ForwardAD.Plus(t[0], t[1] is { } tb ? -tb : null);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Sub", x => x[0] - x[1], [3, 4], [3, 4]),
        new("Sub broadcast", x => x[0] - x[1], [4], [3, 4]),
        new("Sub from scalar", x => 1.0 - x[0], [2, 3]),
        new("Sub transposed", x => x[0] - x[1], GradcheckInput.Transposed(3, 4), [3, 4]),
    ];
}
