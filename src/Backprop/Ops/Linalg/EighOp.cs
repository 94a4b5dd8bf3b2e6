using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// One output (eigenvalues or eigenvectors) of the symmetric eigendecomposition A = V·diag(w)·Vᵀ, A [..., N, N] read
/// from its lower triangle. As for <see cref="QrOp"/>, each output has its own node. The eigenvectors are determined
/// only up to sign, and not at all for repeated eigenvalues: their gradient is defined for distinct eigenvalues and
/// for losses that do not depend on the signs.
/// </summary>
internal sealed class EighOp : Node, IGradchecked
{
    private readonly bool _producesVectors;

    private EighOp(Tensor a, Tensor w, Tensor v, bool producesVectors) : base(a)
    {
        _producesVectors = producesVectors;
        Save(w, v);
    }

    public static (Tensor Eigenvalues, Tensor Eigenvectors) Apply(Tensor a)
    {
        var w = Tensor.Empty(a.Sizes[..^1], a.DType, a.Backend);
        var v = Tensor.Empty(a.Sizes, a.DType, a.Backend);
        a.Backend.Eigh(a.Strided, w.Strided, v.Strided);
        if (Autograd.IsRecording(a))
        {
            var (valuesNode, vectorsNode) = (new EighOp(a, w, v, producesVectors: false), new EighOp(a, w, v, producesVectors: true));
            valuesNode.Attach(w);
            vectorsNode.Attach(v);
        }
        return (w, v);
    }

    // ∂L/∂A = V·(diag(∂w) + F∘½(Vᵀ∂V − ∂VᵀV))·Vᵀ with F_ij = 1/(w_j − w_i) off the diagonal: symmetric, as PyTorch's,
    // since only symmetric changes of A are meaningful.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var (w, v) = (Saved(0), Saved(1));
        var inner = _producesVectors
            ? MatrixCalculus.GapReciprocals(w) * (0.5 * MatrixCalculus.Skew(v.MT.MatMul(g)))
            : null;
        grads[0] = inner is null ? (v * g.Unsqueeze(-2)).MatMul(v.MT) : v.MatMul(inner).MatMul(v.MT);
    }

    private static Tensor Symmetric(Tensor x) => x + x.MT;

    // With M = Vᵀ·dA·V (dA taken symmetric, as the backward's gradient is): dw = diag(M) and dV = V·(F∘M), F the
    // spectral gap reciprocals.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var (w, v) = (Saved(0), Saved(1));
        var change = v.MT.MatMul(0.5 * (t[0]! + t[0]!.MT)).MatMul(v);
        return _producesVectors ? v.MatMul(MatrixCalculus.GapReciprocals(w) * change) : change.Diagonal();
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Eigh eigenvalues", x => Linalg.Eigh(Symmetric(x[0])).Eigenvalues, [4, 4]),
        new("Eigh eigenvectors squared", x => Linalg.Eigh(Symmetric(x[0])).Eigenvectors.Square(), [3, 3]),
        new("Eigh upper batched transposed", x => Linalg.Eigh(Symmetric(x[0]), "U").Eigenvectors.Square() * Linalg.Eigvalsh(Symmetric(x[0])).Unsqueeze(-2),
            GradcheckInput.Transposed(2, 3, 3)),
    ];
}
