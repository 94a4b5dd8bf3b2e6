using Backprop.Diagnostics;
using Backprop.Nn;

namespace Backprop.Ops;

/// <summary>
/// softmax(scale·Q·Kᵀ + mask)·V over [..., L, E] inputs with equal batch dims (the functional broadcasts them first),
/// in one node: two batched GEMMs around one fused masked-softmax kernel. Inputs: query, key, value and, when given,
/// an additive float mask of the scores' shape (it receives a gradient). A Bool keep-mask, the causal flag and a
/// dropout mask are constants of the node. A row whose keys are all masked gives zero output and zero gradient.
/// </summary>
/// <remarks>
/// Backward needs the probabilities P. This op saves them (Lq·Lk per batch and head) rather than recomputing them,
/// because on the CPU the recomputation costs one more GEMM and masked softmax per step, while for the sequence lengths
/// a CPU trains on P is no larger than the activations around it. A backward that builds a graph (create-graph, second
/// order) recomputes P from Q and K with differentiable ops instead, so its dependence on them is differentiated too.
/// </remarks>
internal sealed class ScaledDotProductAttentionOp : Node, IGradchecked
{
    private readonly double _scale;
    private readonly bool _causal;
    private readonly bool _hasAdditive;
    private readonly bool _hasKeep;
    private readonly bool _hasDropout;

    private ScaledDotProductAttentionOp(Tensor q, Tensor k, Tensor v, Tensor? additive, Tensor? keep, bool causal, double scale,
        Tensor? dropout, Tensor probabilities)
        : base(additive is null ? [q, k, v] : [q, k, v, additive])
    {
        _scale = scale;
        _causal = causal;
        _hasAdditive = additive is not null;
        _hasKeep = keep is not null;
        _hasDropout = dropout is not null;
        Save(q, k, v, probabilities, keep, dropout, additive);
    }

    /// <param name="keep">Bool, of the scores' shape [..., Lq, Lk] (may be broadcast): true where a query may attend.</param>
    /// <param name="additive">Of the scores' shape and the inputs' dtype: added to scale·Q·Kᵀ.</param>
    /// <param name="dropout">0 or 1/(1 − p) per score, of the scores' shape, multiplied into the probabilities.</param>
    public static Tensor Apply(Tensor q, Tensor k, Tensor v, Tensor? additive, Tensor? keep, bool causal, double scale, Tensor? dropout)
    {
        var backend = q.Backend;
        int[] scoreSizes = [.. q.Sizes[..^1], k.Sizes[^2]];
        Tensor output, probabilities;
        using (Autograd.NoGrad())
        {
            var scores = Tensor.Empty(scoreSizes, q.DType, backend);
            backend.MatMul(q.Strided, k.MT.Strided, scores.Strided, accumulate: false);
            // scale·(S + M/scale) = scale·S + M: the mask enters before the kernel scales, in one pass over S.
            if (additive is not null) backend.Axpy(1 / scale, additive.Strided, scores.Strided);
            if (keep is not null) backend.Where(keep.Strided, scores.Strided, q.ScalarLike(double.NegativeInfinity).ExpandTo(scoreSizes).Strided, scores.Strided);
            backend.AttentionSoftmax(scores.Strided, scale, causal, scores.Strided);
            probabilities = scores;
            var weights = dropout is null ? probabilities : probabilities * dropout;
            output = Tensor.Empty([.. q.Sizes[..^1], v.Sizes[^1]], q.DType, backend);
            backend.MatMul(weights.Strided, v.Strided, output.Strided, accumulate: false);
        }
        bool record = additive is null ? Autograd.IsRecording([q, k, v]) : Autograd.IsRecording([q, k, v, additive]);
        return record ? new ScaledDotProductAttentionOp(q, k, v, additive, keep, causal, scale, dropout, probabilities).Attach(output) : output;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var q = Saved(0);
        var k = Saved(1);
        var v = Saved(2);
        var keep = _hasKeep ? Saved(4) : null;
        var dropout = _hasDropout ? Saved(5) : null;
        var additive = _hasAdditive ? Saved(6) : null;
        // Building a graph of this backward (second order): P must be a differentiable function of Q, K and the mask.
        var p = Autograd.IsGradEnabled ? Probabilities(q, k, additive, keep, _causal, _scale) : Saved(3);
        if (NeedsGrad(2)) grads[2] = MatMulInto((dropout is null ? p : p * dropout).MT, g, v);
        bool scoresNeeded = NeedsGrad(0) || NeedsGrad(1) || (_hasAdditive && NeedsGrad(3));
        if (!scoresNeeded) return;
        var dp = g.MatMul(v.MT);
        if (dropout is not null) dp = dp * dropout;
        // The softmax Jacobian's product, row by row: ∂L/∂s = P ⊙ (∂L/∂P − Σ ∂L/∂P ⊙ P). Masked entries have P = 0.
        Tensor dsScaled;
        if (Autograd.IsGradEnabled || (_hasAdditive && NeedsGrad(3)))
        {
            var ds = p * (dp - (dp * p).Sum(-1, keepDim: true));
            if (_hasAdditive && NeedsGrad(3)) grads[3] = ds;
            if (!NeedsGrad(0) && !NeedsGrad(1)) return;
            dsScaled = ds * _scale;
        }
        else
        {
            // No graph to build: one fused pass, in place over the fresh dp.
            dp = dp.IsContiguous ? dp : dp.Contiguous();
            p.Backend.AttentionSoftmaxBackward(p.Strided, dp.Strided, _scale, dp.Strided);
            dsScaled = dp;
        }
        if (NeedsGrad(0)) grads[0] = MatMulInto(dsScaled, k, q);
        if (NeedsGrad(1)) grads[1] = MatMulInto(dsScaled.MT, q, k);
    }

    /// <summary>
    /// a·b (batched) for the gradient of <paramref name="layout"/>. In kernel mode, when the product has its shape, it
    /// is laid out as that input is (heads split from a [L, N, E] projection), so the gradient goes back through the
    /// permute and view to the projection without a copy; otherwise (a graph to record, broadcast batches) a·b.
    /// </summary>
    private static Tensor MatMulInto(Tensor a, Tensor b, Tensor layout)
    {
        bool sameBatch = a.Rank == layout.Rank && b.Rank == layout.Rank && a.Sizes.AsSpan(0, a.Rank - 2).SequenceEqual(layout.Sizes.AsSpan(0, a.Rank - 2))
            && b.Sizes.AsSpan(0, b.Rank - 2).SequenceEqual(layout.Sizes.AsSpan(0, b.Rank - 2))
            && layout.Sizes[^2] == a.Sizes[^2] && layout.Sizes[^1] == b.Sizes[^1];
        if (Autograd.BackwardRecords || !sameBatch) return a.MatMul(b);
        var result = Tensor.EmptyInLayoutOf(layout);
        a.Backend.MatMul(a.Strided, b.Strided, result.Strided, accumulate: false);
        return result;
    }

    /// <summary>
    /// The attention probabilities written with differentiable ops, the same values the fused kernel computes: scores
    /// scale·Q·Kᵀ (+ additive), −∞ where <paramref name="keep"/> is false or the causal mask hides a key, softmax over
    /// keys, and zeros for a row with every key masked (its scores are replaced by 0 before the softmax so that its
    /// gradient stays 0, not NaN).
    /// </summary>
    internal static Tensor Probabilities(Tensor q, Tensor k, Tensor? additive, Tensor? keep, bool causal, double scale)
    {
        var scores = q.MatMul(k.MT) * scale;
        if (additive is not null) scores = scores + additive;
        if (keep is not null) scores = Tensor.Where(keep, scores, double.NegativeInfinity);
        if (causal) scores = Tensor.Where(CausalKeep(q.Sizes[^2], k.Sizes[^2], q), scores, double.NegativeInfinity);
        var dead = scores.Eq(double.NegativeInfinity).All(-1, keepDim: true);
        return Tensor.Where(dead, 0.0, Tensor.Where(dead, 0.0, scores).Softmax(-1));
    }

    /// <summary>Bool [Lq, Lk], true on and below the diagonal: query i may attend keys 0..i (PyTorch's top-left alignment).</summary>
    internal static Tensor CausalKeep(int queries, int keys, Tensor like)
    {
        var keepData = new bool[queries * keys];
        for (int i = 0; i < queries; i++)
            for (int j = 0; j <= Math.Min(i, keys - 1); j++) keepData[i * keys + j] = true;
        return Tensor.FromArray(keepData, queries, keys).To(like.Device);
    }

    /// <summary>
    /// ∂O = ∂P·V + P·∂V (dropout's constant mask applied to both), with ∂S = scale·(∂Q·Kᵀ + Q·∂Kᵀ) + ∂M and the softmax's
    /// ∂P = P ⊙ (∂S − Σ P ⊙ ∂S) row by row; masked scores have P = 0, so they contribute nothing (all-masked rows stay 0).
    /// </summary>
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var (q, k, v) = (x[0], x[1], x[2]);
        var keep = _hasKeep ? Saved(4) : null;
        var dropout = _hasDropout ? Saved(5) : null;
        var additive = _hasAdditive ? x[3] : null;
        // Recomputed by differentiable ops when the rule itself is being recorded (forward-over-reverse).
        var p = Autograd.IsGradEnabled && (q.RequiresGrad || k.RequiresGrad || (additive?.RequiresGrad ?? false))
            ? Probabilities(q, k, additive, keep, _causal, _scale)
            : Saved(3);
        Tensor? ds = t[0] is { } dq ? dq.MatMul(k.MT) * _scale : null;
        if (t[1] is { } dk) ds = ForwardAD.Plus(ds, q.MatMul(dk.MT) * _scale);
        if (_hasAdditive && t[3] is { } dm) ds = ForwardAD.Plus(ds, dm);
        Tensor? dOut = null;
        if (ds is not null)
        {
            var dp = p * (ds - (p * ds).Sum(-1, keepDim: true));
            if (dropout is not null) dp = dp * dropout;
            dOut = dp.MatMul(v);
        }
        if (t[2] is { } dv) dOut = ForwardAD.Plus(dOut, (dropout is null ? p : p * dropout).MatMul(dv));
        return dOut;
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("ScaledDotProductAttention", x => Functional.ScaledDotProductAttention(x[0], x[1], x[2]), [2, 3, 4], [2, 5, 4], [2, 5, 3]),
        new("ScaledDotProductAttention causal", x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true),
            [2, 4, 3], [2, 4, 3], [2, 4, 2]),
        new("ScaledDotProductAttention causal, more keys than queries", x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true, scale: 0.7),
            [3, 2], [5, 2], [5, 3]),
        new("ScaledDotProductAttention Bool mask with a fully masked row",
            x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], attnMask: SampleKeepMask(x[0])), [2, 3, 4], [2, 4, 4], [2, 4, 2]),
        new("ScaledDotProductAttention additive mask (differentiated)",
            x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], attnMask: x[3]), [2, 3, 4], [2, 4, 4], [2, 4, 2], [3, 4]),
        new("ScaledDotProductAttention broadcast heads", x => Functional.ScaledDotProductAttention(x[0], x[1], x[2]),
            [2, 2, 3, 2], [2, 1, 4, 2], [1, 4, 3]),
        new("ScaledDotProductAttention transposed operands", x => Functional.ScaledDotProductAttention(x[0], x[1], x[2]),
            GradcheckInput.Transposed(2, 3, 4), GradcheckInput.Transposed(2, 5, 4), GradcheckInput.Strided(2, 5, 3)),
        // A fresh generator per call: every evaluation draws the same dropout mask.
        new("ScaledDotProductAttention dropout", x => Functional.ScaledDotProductAttention(x[0], x[1], x[2], dropoutP: 0.3, generator: new Generator(3)),
            [2, 3, 4], [2, 5, 4], [2, 5, 3]),
    ];

    /// <summary>Bool [3, 4] for gradcheck: row 1 attends nothing, the others some keys.</summary>
    private static Tensor SampleKeepMask(Tensor like) => Tensor.FromArray(
        new[] { true, false, true, true, false, false, false, false, false, true, true, false }, 3, 4).To(like.Device);
}
