using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class PowOp : Node, IGradchecked
{
    private PowOp(Tensor a, Tensor b, Tensor y) : base(a, b) => Save(a, b, NeedsGrad(1) ? y : null);

    public static Tensor Apply(Tensor a, Tensor b)
    {
        if (!a.DType.IsFloatingPoint()) throw new NotSupportedException($"Pow needs floating-point tensors; got {a.DType.DisplayName()}.");
        var y = Kernels.Binary(BinaryOp.Pow, a, b);
        return Autograd.IsRecording(a, b) ? new PowOp(a, b, y).Attach(y) : y;
    }

    // y = aᵇ: ∂y/∂a = b·a^(b−1), ∂y/∂b = aᵇ·ln a (needed only when the exponent requires grad). As in PyTorch's
    // pow_backward, a⁰ is constant, so ∂y/∂a is 0 wherever b = 0 (not 0·0⁻¹ = NaN at a = 0); and 0ᵇ is constant in b
    // for b > 0, so ∂y/∂b is 0 where a = 0 and b ≥ 0 (not 0·ln 0 = NaN). Selected with Where, which stays differentiable.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var a = Saved(0);
        var b = Saved(1);
        if (NeedsGrad(0)) grads[0] = Tensor.Where(b.Eq(0.0), 0.0, g * b * Tensor.Pow(a, b - 1.0));
        if (NeedsGrad(1)) grads[1] = Tensor.Where(a.Eq(0.0).And(b.Ge(0.0)), 0.0, g * Saved(2) * a.Log());
    }

    // The backward's partials, with its choices where they are 0·∞: nothing from ta where b = 0, nothing from tb where
    // a = 0 and b ≥ 0.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var (a, b) = (x[0], x[1]);
        return ForwardAD.Plus(
            t[0] is { } ta ? Tensor.Where(b.Eq(0.0), 0.0, ta * b * Tensor.Pow(a, b - 1.0)) : null,
            t[1] is { } tb ? Tensor.Where(a.Eq(0.0).And(b.Ge(0.0)), 0.0, tb * y * a.Log()) : null);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Pow scalar exponent 3", x => x[0].Pow(3), [3, 4]),
        new("Pow scalar exponent 2", x => x[0].Pow(2), GradcheckInput.Transposed(3, 2)),
        new("Pow real exponent", x => x[0].Pow(0.5), GradcheckInput.Positive(5)),
        new("Pow negative exponent", x => x[0].Pow(-1.5), GradcheckInput.Positive(2, 3)),
        new("Pow tensor exponent", x => Tensor.Pow(x[0], x[1]), GradcheckInput.Positive(3, 4), [3, 4]),
        new("Pow broadcast exponent", x => Tensor.Pow(x[0], x[1]), GradcheckInput.Positive(3, 4), [4]),
    ];
}
