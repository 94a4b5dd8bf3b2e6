using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>det A [...] for A [..., N, N], from the LU pivots.</summary>
internal sealed class DetOp : Node, IGradchecked
{
    private DetOp(Tensor a, Tensor det) : base(a) => Save(a, det);

    public static Tensor Apply(Tensor a)
    {
        var det = Tensor.Empty(a.Sizes[..^2], a.DType, a.Backend);
        a.Backend.Determinant(a.Strided, det.Strided);
        return Autograd.IsRecording(a) ? new DetOp(a, det).Attach(det) : det;
    }

    // Jacobi's formula: ∂det/∂A = det·A⁻ᵀ. Defined here for invertible A only (the inverse throws for a singular one).
    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = (g * Saved(1)).Unsqueeze(-1).Unsqueeze(-1) * InvOp.Apply(Saved(0), "Det backward").MT;

    // Jacobi's formula: d det A = det A · tr(A⁻¹·dA).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => y * (InvOp.Apply(x[0], "Det JVP") * t[0]!.MT).Sum([-2, -1]);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Det", x => Linalg.Det(x[0] + 3.0 * Tensor.Eye(3, DType.Float64)), [3, 3]),
        new("Det batched transposed", x => Linalg.Det(x[0] + 3.0 * Tensor.Eye(2, DType.Float64)), GradcheckInput.Transposed(2, 2, 2)),
    ];
}
