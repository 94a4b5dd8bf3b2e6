using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>X = A⁻¹·B for A [..., N, N] and B [..., N, K] with equal batch dims (broadcasting is done before).</summary>
internal sealed class SolveOp : Node, IGradchecked
{
    private SolveOp(Tensor a, Tensor b, Tensor x) : base(a, b) => Save(a, NeedsGrad(0) ? x : null);

    /// <param name="op">The public op named in the error for a singular A.</param>
    public static Tensor Apply(Tensor a, Tensor b, string op)
    {
        var x = Tensor.Empty(b.Sizes, a.DType, a.Backend);
        int failed = a.Backend.Solve(a.Strided, b.Strided, x.Strided);
        if (failed >= 0) throw Linalg.Failure(op, a, failed, "singular");
        return Autograd.IsRecording(a, b) ? new SolveOp(a, b, x).Attach(x) : x;
    }

    // A·X = B: ∂L/∂B = A⁻ᵀ·G (a solve with Aᵀ), ∂L/∂A = −∂L/∂B·Xᵀ (Giles 2008).
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var gb = Apply(Saved(0).MT, g, "Solve backward");
        if (NeedsGrad(1)) grads[1] = gb;
        if (NeedsGrad(0)) grads[0] = -gb.MatMul(Saved(1).MT);
    }

    /// <summary>Diagonally dominant A: every matrix drawn in [−2, 2] plus 8·I is safely invertible.</summary>
    internal static Tensor WellConditioned(Tensor x) => x + 8.0 * Tensor.Eye(x.Sizes[^1], x.DType, x.Device);

    // A·X = B: dX = A⁻¹·(dB − dA·X).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var rhs = ForwardAD.Plus(t[1], t[0] is { } ta ? -ta.MatMul(y) : null)!;
        return Apply(x[0], rhs, "Solve JVP");
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Solve", x => Linalg.Solve(WellConditioned(x[0]), x[1]), [3, 3], [3, 2]),
        new("Solve vector", x => Linalg.Solve(WellConditioned(x[0]), x[1]), [3, 3], [3]),
        new("Solve batched broadcast", x => Linalg.Solve(WellConditioned(x[0]), x[1]), [2, 3, 3], [3, 2]),
        new("Solve transposed", x => Linalg.Solve(WellConditioned(x[0]), x[1]), GradcheckInput.Transposed(3, 3), GradcheckInput.Transposed(3, 2)),
        new("Lstsq tall", x => Linalg.Lstsq(x[0] + Tensor.Eye(4, DType.Float64).Narrow(1, 0, 3) * 4.0, x[1]), [4, 3], [4, 2]),
        new("Lstsq wide", x => Linalg.Lstsq(x[0] + Tensor.Eye(4, DType.Float64).Narrow(0, 0, 2) * 4.0, x[1]), [2, 4], [2]),
    ];
}
