using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// One output (Q or R) of A = Q·R for A [..., M, N]. Each output has its own node: the backward formula is linear in
/// (∂L/∂Q, ∂L/∂R), so the two nodes' contributions add up to the whole gradient, and an unused output costs nothing.
/// </summary>
internal sealed class QrOp : Node, IGradchecked
{
    private readonly bool _producesR;

    private QrOp(Tensor a, Tensor q, Tensor r, bool producesR) : base(a)
    {
        _producesR = producesR;
        Save(q, r, a.Sizes[^2] < a.Sizes[^1] ? a : null);
    }

    public static (Tensor Q, Tensor R) Apply(Tensor a, QrMode mode)
    {
        int m = a.Sizes[^2], n = a.Sizes[^1];
        int qCols = mode == QrMode.Complete ? m : Math.Min(m, n);
        var batch = a.Sizes[..^2];
        var q = Tensor.Empty([.. batch, m, qCols], a.DType, a.Backend);
        var r = Tensor.Empty([.. batch, qCols, n], a.DType, a.Backend);
        a.Backend.Qr(a.Strided, q.Strided, r.Strided);
        if (Autograd.IsRecording(a))
        {
            var (qNode, rNode) = (new QrOp(a, q, r, producesR: false), new QrOp(a, q, r, producesR: true));
            qNode.Attach(q);
            rNode.Attach(r);
        }
        return (mode == QrMode.R ? Tensor.Zeros(new Shape([0]), a.DType, a.Device) : q, r);
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var (q, r) = (Saved(0), Saved(1));
        int m = q.Sizes[^2], n = r.Sizes[^1];
        if (q.Sizes[^1] != Math.Min(m, n))
            throw new NotSupportedException(
                $"Qr: the gradient of mode Complete is defined only when M ≤ N; for A of shape [..., {m}, {n}] the last {m - n} columns of Q are not determined by A. Use QrMode.Reduced.");
        var (gq, gr) = _producesR ? (null, g) : (g, (Tensor?)null);
        if (m >= n)
        {
            grads[0] = TallBackward(q, r, gq, gr);
            return;
        }
        // A = [X | Y] with X = Q·R₁ square and R₂ = Qᵀ·Y: R₂'s gradient reaches Q as Y·∂R₂ᵀ and Y as Q·∂R₂.
        var y = Saved(2).Narrow(-1, m, n - m);
        var gr2 = gr?.Narrow(-1, m, n - m);
        var gx = TallBackward(q, r.Narrow(-1, 0, m), gq ?? y.MatMul(gr2!.MT), gr?.Narrow(-1, 0, m));
        var gy = gr2 is null ? Tensor.Zeros(new Shape([.. y.Sizes]), g.DType, g.Device) : q.MatMul(gr2);
        grads[0] = Tensor.Cat([gx, gy], -1);
    }

    /// <summary>
    /// M ≥ N (Walter &amp; Lehmann; PyTorch's linalg_qr_backward): with M = ∂R·Rᵀ − Qᵀ·∂Q and copyltu(M) the symmetric
    /// matrix taking M's upper triangle, ∂L/∂A = (∂Q + Q·copyltu(M))·R⁻ᵀ. Needs R invertible (A of full rank).
    /// </summary>
    private static Tensor TallBackward(Tensor q, Tensor r, Tensor? gq, Tensor? gr)
    {
        var m = gr is null ? -q.MT.MatMul(gq!) : gq is null ? gr.MatMul(r.MT) : gr.MatMul(r.MT) - q.MT.MatMul(gq);
        var symmetric = m.Triu() + m.Triu(1).MT;
        var left = gq is null ? q.MatMul(symmetric) : gq + q.MatMul(symmetric);
        return MatrixCalculus.TimesInverseTransposed(left, r, "Qr backward");
    }

    // Through the backward (Walter & Lehmann's formula, both shapes of A).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => JvpThroughBackward(t, y);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Qr Q", x => Linalg.Qr(x[0]).Q, [4, 3]),
        new("Qr R", x => Linalg.Qr(x[0]).R, [3, 3]),
        new("Qr wide", x => Linalg.Qr(x[0]).Q.MatMul(Linalg.Qr(x[0]).R.Square()), [2, 4]),
        new("Qr R only batched transposed", x => Linalg.Qr(x[0], QrMode.R).R, GradcheckInput.Transposed(2, 4, 3)),
    ];
}
