using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>Batched matrix product of [..., M, K] and [..., K, N] with equal batch dims (broadcasting is done before).</summary>
internal sealed class MatMulOp : Node, IGradchecked
{
    private MatMulOp(Tensor a, Tensor b) : base(a, b) => Save(NeedsGrad(1) ? a : null, NeedsGrad(0) ? b : null);

    public static Tensor Apply(Tensor a, Tensor b)
    {
        int[] sizes = [.. a.Sizes[..^1], b.Sizes[^1]];
        var y = Tensor.Empty(sizes, a.DType, a.Backend);
        a.Backend.MatMul(a.Strided, b.Strided, y.Strided, accumulate: false);
        return Autograd.IsRecording(a, b) ? new MatMulOp(a, b).Attach(y) : y;
    }

    // C = A·B: ∂L/∂A = G·Bᵀ, ∂L/∂B = Aᵀ·G. The transposes are views; the kernel reads them in place.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        if (NeedsGrad(0)) grads[0] = Exclusive(Apply(g, Saved(1).MT));
        if (NeedsGrad(1)) grads[1] = Exclusive(Apply(Saved(0).MT, g));
    }

    private static Tensor Exclusive(Tensor fresh)
    {
        fresh.IsExclusiveGradient = !Autograd.IsGradEnabled;
        return fresh;
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => ForwardAD.Plus(t[0] is { } ta ? Apply(ta, x[1]) : null, t[1] is { } tb ? Apply(x[0], tb) : null);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("MatMul", x => x[0].MatMul(x[1]), [3, 4], [4, 5]),
        new("MatMul transposed operands", x => x[0].MatMul(x[1]), GradcheckInput.Transposed(3, 4), GradcheckInput.Transposed(4, 2)),
        new("MatMul strided", x => x[0].MatMul(x[1]), GradcheckInput.Strided(2, 3), [3, 2]),
        new("MatMul vector-matrix", x => x[0].MatMul(x[1]), [4], [4, 3]),
        new("MatMul matrix-vector", x => x[0].MatMul(x[1]), [3, 4], [4]),
        new("MatMul dot", x => x[0].Dot(x[1]), [5], [5]),
        new("MatMul batched", x => x[0].MatMul(x[1]), [2, 3, 4], [2, 4, 2]),
        new("MatMul broadcast batch", x => x[0].MatMul(x[1]), [2, 1, 3, 4], [3, 4, 2]),
        .. Einsum.GradcheckCases,
    ];
}
