using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// One output (U, S or Vh) of A = U·diag(S)·Vh for A [..., M, N]; as for <see cref="QrOp"/>, each output has its own
/// node and their contributions add. The singular vectors are determined only up to sign (and not at all where
/// singular values repeat), so their gradient is defined for distinct singular values and for losses that do not
/// depend on those signs.
/// </summary>
internal sealed class SvdOp : Node, IGradchecked
{
    private enum Output { U, S, Vh }

    private readonly Output _output;

    private SvdOp(Tensor a, Tensor u, Tensor s, Tensor vh, Output output) : base(a)
    {
        _output = output;
        Save(u, s, vh);
    }

    public static (Tensor U, Tensor S, Tensor Vh) Apply(Tensor a, bool fullMatrices)
    {
        int m = a.Sizes[^2], n = a.Sizes[^1], k = Math.Min(m, n);
        var batch = a.Sizes[..^2];
        var u = Tensor.Empty([.. batch, m, fullMatrices ? m : k], a.DType, a.Backend);
        var s = Tensor.Empty([.. batch, k], a.DType, a.Backend);
        var vh = Tensor.Empty([.. batch, fullMatrices ? n : k, n], a.DType, a.Backend);
        a.Backend.Svd(a.Strided, u.Strided, s.Strided, vh.Strided);
        if (Autograd.IsRecording(a))
        {
            var nodes = (U: new SvdOp(a, u, s, vh, Output.U), S: new SvdOp(a, u, s, vh, Output.S), Vh: new SvdOp(a, u, s, vh, Output.Vh));
            nodes.U.Attach(u);
            nodes.S.Attach(s);
            nodes.Vh.Attach(vh);
        }
        return (u, s, vh);
    }

    // Townsend 2016, as PyTorch's svd_backward, with F_jk = 1/(s_k² − s_j²) off the diagonal:
    //   ∂L/∂A = U·[(F∘(Uᵀ∂U − ∂UᵀU))·S + diag(∂S) + S·(F∘(Vᵀ∂V − ∂VᵀV))]·Vh
    //           + (I − UUᵀ)·∂U·S⁻¹·Vh + U·S⁻¹·∂Vᵀ·(I − VVᵀ),
    // one term per output. With full matrices only the first K columns of U (rows of Vh) are a function of A; the
    // gradient reaching the others is dropped.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var (u, s, vh) = (Saved(0), Saved(1), Saved(2));
        int m = u.Sizes[^2], n = vh.Sizes[^1], k = s.Sizes[^1];
        u = u.Narrow(-1, 0, k);
        vh = vh.Narrow(-2, 0, k);
        switch (_output)
        {
            case Output.S:
                grads[0] = (u * g.Unsqueeze(-2)).MatMul(vh);
                break;
            case Output.U:
            {
                var gu = g.Narrow(-1, 0, k);
                var x = u.MT.MatMul(gu);
                var inner = MatrixCalculus.GapReciprocals(s * s) * MatrixCalculus.Skew(x) * s.Unsqueeze(-2);
                var ga = u.MatMul(inner).MatMul(vh);
                grads[0] = m > k ? ga + ((gu - u.MatMul(x)) / s.Unsqueeze(-2)).MatMul(vh) : ga;
                break;
            }
            default:
            {
                var gvh = g.Narrow(-2, 0, k);
                var y = vh.MatMul(gvh.MT);
                var inner = s.Unsqueeze(-1) * (MatrixCalculus.GapReciprocals(s * s) * MatrixCalculus.Skew(y));
                var ga = u.MatMul(inner).MatMul(vh);
                grads[0] = n > k ? ga + (u / s.Unsqueeze(-2)).MatMul(gvh - gvh.MatMul(vh.MT).MatMul(vh)) : ga;
                break;
            }
        }
    }

    private static Tensor Reconstruct(Tensor a)
    {
        var (u, s, vh) = Linalg.Svd(a, fullMatrices: false);
        return (u * s.Unsqueeze(-2)).MatMul(vh);
    }

    // Through the backward (Townsend's formula, with its full-matrices and wide/tall cases).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => JvpThroughBackward(t, y);

    // Every row is a function of A alone, whatever signs the kernel picks for the singular vectors.
    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Svd singular values", x => Linalg.Svd(x[0]).S, [4, 3]),
        new("Svd reconstruction tall", x => Reconstruct(x[0]), [4, 3]),
        new("Svd reconstruction wide batched transposed", x => Reconstruct(x[0]), GradcheckInput.Transposed(2, 2, 3)),
        new("Svd U squared", x => Linalg.Svd(x[0], fullMatrices: false).U.Square(), [4, 3]),
        new("Svd Vh squared", x => Linalg.Svd(x[0], fullMatrices: false).Vh.Square(), [2, 4]),
        new("Svd U squared full matrices square", x => Linalg.Svd(x[0]).U.Square() * Linalg.Svd(x[0]).S.Unsqueeze(-2), [3, 3]),
        new("MatrixNorm nuclear", x => Linalg.MatrixNorm(x[0], "nuc"), [3, 4]),
        new("MatrixNorm spectral", x => Linalg.MatrixNorm(x[0], 2), [4, 3]),
        new("MatrixNorm Frobenius", x => Linalg.MatrixNorm(x[0], keepDim: true), [2, 3, 2]),
    ];
}
