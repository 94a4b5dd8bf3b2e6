using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>L with L·Lᵀ = A for symmetric positive-definite A [..., N, N], reading A's lower triangle.</summary>
internal sealed class CholeskyOp : Node, IGradchecked
{
    private CholeskyOp(Tensor a, Tensor l) : base(a) => Save(l);

    public static Tensor Apply(Tensor a)
    {
        var l = Tensor.Empty(a.Sizes, a.DType, a.Backend);
        int failed = a.Backend.Cholesky(a.Strided, l.Strided);
        if (failed >= 0) throw Linalg.Failure("Cholesky", a, failed, "not positive-definite");
        return Autograd.IsRecording(a) ? new CholeskyOp(a, l).Attach(l) : l;
    }

    // Murray 2016, in PyTorch's symmetric form: with P = tril(Lᵀ·G) and Φ = ½(P + tril(P, −1)ᵀ),
    // ∂L/∂A = L⁻ᵀ·Φ·L⁻¹, a symmetric matrix (A is symmetric; only its lower triangle was read).
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var l = Saved(0);
        var p = l.MT.MatMul(g).Tril();
        var phi = 0.5 * (p + p.Tril(-1).MT);
        var left = SolveOp.Apply(l.MT, phi, "Cholesky backward");
        grads[0] = MatrixCalculus.TimesInverseTransposed(left, l.MT, "Cholesky backward");
    }

    /// <summary>A symmetric positive-definite matrix from any square x: x·xᵀ + N·I.</summary>
    internal static Tensor PositiveDefinite(Tensor x) => x.MatMul(x.MT) + x.Sizes[^1] * Tensor.Eye(x.Sizes[^1], x.DType, x.Device);

    // dL = L·Φ(L⁻¹·dA·L⁻ᵀ), Φ the lower triangle with its diagonal halved (Murray 2016). The change of A is taken
    // symmetric, ½(dA + dAᵀ), as the backward's symmetric gradient takes it.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var l = y;
        var change = 0.5 * (t[0]! + t[0]!.MT);
        var left = SolveOp.Apply(l, change, "Cholesky JVP");
        var phi = SolveOp.Apply(l, left.MT, "Cholesky JVP").MT;
        return l.MatMul(phi.Tril(-1) + 0.5 * (phi.Tril() - phi.Tril(-1)));
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Cholesky", x => Linalg.Cholesky(PositiveDefinite(x[0])), [3, 3]),
        new("Cholesky upper batched transposed", x => Linalg.Cholesky(PositiveDefinite(x[0]), upper: true), GradcheckInput.Transposed(2, 3, 3)),
    ];
}
