using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>Y = A⁻¹ for A [..., N, N], solved against the identity by LU.</summary>
internal sealed class InvOp : Node, IGradchecked
{
    private InvOp(Tensor a, Tensor y) : base(a) => Save(y);

    public static Tensor Apply(Tensor a) => Apply(a, "Inv");

    public static Tensor Apply(Tensor a, string op)
    {
        var identity = Tensor.Eye(a.Sizes[^1], a.DType, a.Device).ExpandTo(a.Sizes);
        var y = Tensor.Empty(a.Sizes, a.DType, a.Backend);
        int failed = a.Backend.Solve(a.Strided, identity.Strided, y.Strided);
        if (failed >= 0) throw Linalg.Failure(op, a, failed, "singular");
        return Autograd.IsRecording(a) ? new InvOp(a, y).Attach(y) : y;
    }

    // dY = −Y·dA·Y, so ∂L/∂A = −Yᵀ·G·Yᵀ. Y is this op's output, so the formula differentiates again through it.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var yt = Saved(0).MT;
        grads[0] = -yt.MatMul(g).MatMul(yt);
    }

    // dY = −Y·dA·Y.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => -y.MatMul(t[0]!).MatMul(y);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Inv", x => Linalg.Inv(SolveOp.WellConditioned(x[0])), [3, 3]),
        new("Inv batched transposed", x => Linalg.Inv(SolveOp.WellConditioned(x[0])), GradcheckInput.Transposed(2, 2, 2)),
    ];
}
