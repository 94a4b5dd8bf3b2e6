using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class MulOp : Node, IGradchecked
{
    private MulOp(Tensor a, Tensor b) : base(a, b) =>
        Save(NeedsGrad(1) ? a : null, NeedsGrad(0) ? b : null);

    public static Tensor Apply(Tensor a, Tensor b)
    {
        var y = Kernels.Binary(BinaryOp.Mul, a, b);
        return Autograd.IsRecording(a, b) ? new MulOp(a, b).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        if (NeedsGrad(0)) grads[0] = g * Saved(1);
        if (NeedsGrad(1)) grads[1] = g * Saved(0);
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => ForwardAD.Plus(t[0] is { } ta ? ta * x[1] : null, t[1] is { } tb ? x[0] * tb : null);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Mul", x => x[0] * x[1], [3, 4], [3, 4]),
        new("Mul broadcast", x => x[0] * x[1], [2, 3, 4], [3, 1]),
        new("Mul scalar", x => x[0] * -1.5, [5]),
        new("Mul self (diamond)", x => x[0] * x[0], [3, 2]),
        new("Mul non-contiguous", x => x[0] * x[1], GradcheckInput.Strided(3, 4), GradcheckInput.Transposed(3, 4)),
        // Dropout multiplies by a random mask; a fresh generator with a fixed seed draws the same mask every call.
        new("Dropout", x => Nn.Functional.Dropout(x[0], 0.4, training: true, new Generator(7)), [4, 5]),
    ];
}
