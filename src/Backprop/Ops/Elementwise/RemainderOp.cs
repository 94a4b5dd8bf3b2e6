using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// Remainder (a − ⌊a/b⌋·b, the sign of the divisor: Python's % and torch.remainder) or, with <c>truncated</c>, Fmod
/// (a − trunc(a/b)·b, the sign of the dividend: C's fmod and torch.fmod).
/// </summary>
internal sealed class RemainderOp : Node, IGradchecked
{
    private readonly bool _truncated;

    private RemainderOp(Tensor a, Tensor b, bool truncated) : base(a, b)
    {
        _truncated = truncated;
        if (NeedsGrad(1)) Save(a, b);
    }

    public override string Name => _truncated ? "FmodBackward" : "RemainderBackward";

    public static Tensor Apply(Tensor a, Tensor b, bool truncated)
    {
        var y = Kernels.Binary(truncated ? BinaryOp.Fmod : BinaryOp.Remainder, a, b);
        return Autograd.IsRecording(a, b) ? new RemainderOp(a, b, truncated).Attach(y) : y;
    }

    // derivatives.yaml: ∂/∂a = 1 and ∂/∂b = −q with q the quotient a/b rounded the same way (floor for remainder,
    // trunc for fmod); q is piecewise constant, so its own gradient is zero.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        if (NeedsGrad(0)) grads[0] = g;
        if (NeedsGrad(1))
        {
            var a = Saved(0);
            var b = Saved(1);
            grads[1] = -g * (_truncated ? (a / b).Trunc() : FloorDivide(a, b));
        }
    }

    /// <summary>
    /// PyTorch's div(a, b, rounding_mode="floor") for floats: (a − fmod(a, b))/b, less one where fmod's sign differs
    /// from b's, then rounded, so it agrees with the remainder (1 // 0.1 is 9 where ⌊1/0.1⌋ is 10); a/b where b = 0.
    /// </summary>
    private static Tensor FloorDivide(Tensor a, Tensor b)
    {
        var mod = Tensor.Fmod(a, b);
        var quotient = (a - mod) / b;
        var shifted = mod.Ne(0.0).And(b.Lt(0.0).Ne(mod.Lt(0.0)));
        quotient = Tensor.Where(shifted, quotient - 1.0, quotient).Floor();
        return Tensor.Where(b.Eq(0.0), a / b, quotient);
    }

    // ta − tb·q, q the rounded quotient (piecewise constant).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => ForwardAD.Plus(t[0], t[1] is { } tb ? -tb * (_truncated ? (x[0] / x[1]).Trunc() : FloorDivide(x[0], x[1])) : null);

    // Drawn away from the jumps of a mod b: a in [−2, 2] and |b| in [0.1, 2] put some within 1e−6 of a multiple only
    // by extreme chance; the fixed seed keeps them clear.
    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Remainder", x => Tensor.Remainder(x[0], x[1]), [3, 4], GradcheckInput.NonZero(3, 4)),
        new("Remainder broadcast transposed", x => Tensor.Remainder(x[0], x[1]), GradcheckInput.Transposed(3, 4), GradcheckInput.NonZero(4)),
        new("Remainder scalar divisor", x => x[0].Remainder(0.7), [5]),
        new("Fmod", x => Tensor.Fmod(x[0], x[1]), [3, 4], GradcheckInput.NonZero(3, 4)),
        new("Fmod strided", x => x[0].Fmod(-0.7), GradcheckInput.Strided(2, 3)),
    ];
}
