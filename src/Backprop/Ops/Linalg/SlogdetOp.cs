using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>log|det A| [...] for A [..., N, N]; the sign is computed beside it and carries no gradient.</summary>
internal sealed class SlogdetOp : Node, IGradchecked
{
    private SlogdetOp(Tensor a) : base(a) => Save(a);

    public static (Tensor Sign, Tensor LogAbsDet) Apply(Tensor a)
    {
        var sign = Tensor.Empty(a.Sizes[..^2], a.DType, a.Backend);
        var logAbsDet = Tensor.Empty(a.Sizes[..^2], a.DType, a.Backend);
        a.Backend.LogDeterminant(a.Strided, sign.Strided, logAbsDet.Strided);
        return (sign, Autograd.IsRecording(a) ? new SlogdetOp(a).Attach(logAbsDet) : logAbsDet);
    }

    // ∂log|det A|/∂A = A⁻ᵀ, for invertible A.
    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = g.Unsqueeze(-1).Unsqueeze(-1) * InvOp.Apply(Saved(0), "Slogdet backward").MT;

    // d log|det A| = tr(A⁻¹·dA).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => (InvOp.Apply(x[0], "Slogdet JVP") * t[0]!.MT).Sum([-2, -1]);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Slogdet", x => Linalg.Slogdet(x[0] + 3.0 * Tensor.Eye(3, DType.Float64)).LogAbsDet, [3, 3]),
        new("Slogdet batched negative determinant", x => Linalg.Slogdet(x[0] - 3.0 * Tensor.Eye(3, DType.Float64)).LogAbsDet, GradcheckInput.Transposed(2, 3, 3)),
    ];
}
