using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>condition ? a : b. The condition is a constant of the op (no gradient), so it is not an input edge.</summary>
internal sealed class WhereOp : Node, IGradchecked
{
    private WhereOp(Tensor condition, Tensor a, Tensor b) : base(a, b) => Save(condition);

    public static Tensor Apply(Tensor condition, Tensor a, Tensor b)
    {
        var y = Tensor.Empty(a.Sizes, a.DType, a.Backend);
        a.Backend.Where(condition.Strided, a.Strided, b.Strided, y.Strided);
        return Autograd.IsRecording(a, b) ? new WhereOp(condition.Detach(), a, b).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var condition = Saved(0);
        var zero = g.ScalarLike(0);
        if (NeedsGrad(0)) grads[0] = Tensor.Where(condition, g, zero);
        if (NeedsGrad(1)) grads[1] = Tensor.Where(condition, zero, g);
    }

    private static readonly Tensor Pattern = Tensor.FromArray(new long[] { 1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 1 }, 3, 4);

    // The condition picks the tangent as it picks the value.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Tensor.Where(Saved(0), ForwardAD.OrZeros(t[0], x[0]), ForwardAD.OrZeros(t[1], x[1]));

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Where", x => Tensor.Where(Pattern, x[0], x[1]), [3, 4], [3, 4]),
        new("Where broadcast", x => Tensor.Where(Pattern, x[0], x[1]), [4], GradcheckInput.Transposed(3, 4)),
        new("Where from comparison", x => Tensor.Where(x[0].Gt(0.0), x[0], x[0] * 0.1), GradcheckInput.NonZero(6)),
        new("Tril", x => x[0].Tril(), [3, 4]),
        new("Triu offset batched transposed", x => x[0].Triu(-1), GradcheckInput.Transposed(2, 3, 3)),
        new("DiagEmbed", x => x[0].DiagEmbed(), [2, 3]),
    ];
}
