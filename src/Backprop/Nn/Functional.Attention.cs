using Backprop.Ops;

namespace Backprop.Nn;

public static partial class Functional
{
    /// <summary>
    /// Scaled dot-product attention, softmax(scale·Q·Kᵀ + mask)·V, as one fused op: query [..., Lq, E], key [..., Lk, E],
    /// value [..., Lk, Ev] → [..., Lq, Ev]; the leading (batch, head) dims broadcast.
    /// </summary>
    /// <param name="attnMask">
    /// Broadcastable to [..., Lq, Lk]. Bool: true where a query may attend a key (PyTorch's SDPA convention, the inverse of
    /// <see cref="MultiheadAttention"/>'s). Floating-point: added to the scaled scores (−∞ masks a key); it receives a gradient.
    /// </param>
    /// <param name="dropoutP">Probability of dropping each attention weight (the rest scaled by 1/(1 − p)); applied whenever &gt; 0.</param>
    /// <param name="isCausal">Query i attends keys 0..i only (top-left aligned, as PyTorch); combines with <paramref name="attnMask"/>.</param>
    /// <param name="scale">Multiplies Q·Kᵀ; 1/√E when null. Must be positive.</param>
    /// <param name="generator">Draws the dropout mask; <see cref="Generator.Default"/> when null.</param>
    /// <remarks>
    /// A query whose keys are all masked (by the Bool mask, the causal mask or a −∞ additive mask) attends nothing: its
    /// output row is zero and it passes no gradient, where PyTorch returns NaN. Backward saves the probabilities
    /// (Lq·Lk per batch and head) rather than recomputing them (ScaledDotProductAttentionOp says why).
    /// </remarks>
    public static Tensor ScaledDotProductAttention(Tensor query, Tensor key, Tensor value, Tensor? attnMask = null,
        double dropoutP = 0.0, bool isCausal = false, double? scale = null, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        const string Op = "ScaledDotProductAttention";
        Tensor.CheckSameDevice(Op, query, ("key", key), ("value", value), ("attnMask", attnMask));
        if (query.Rank < 2 || key.Rank < 2 || value.Rank < 2)
            throw new ShapeMismatchException(Op, $"query, key and value must be [..., L, E]; got {query.Shape}, {key.Shape} and {value.Shape}");
        if (!query.DType.IsFloatingPoint() || key.DType != query.DType || value.DType != query.DType)
            throw new ArgumentException($"{Op}: query, key and value must share one floating-point dtype; got {query.DType.DisplayName()}, " +
                $"{key.DType.DisplayName()} and {value.DType.DisplayName()}.");
        if (key.Sizes[^1] != query.Sizes[^1])
            throw new ShapeMismatchException(Op, $"query {query.Shape} and key {key.Shape} must have the same embedding size (last dim)");
        if (value.Sizes[^2] != key.Sizes[^2])
            throw new ShapeMismatchException(Op, $"key {key.Shape} and value {value.Shape} must have the same sequence length (dim −2)");
        if (!(dropoutP >= 0 && dropoutP <= 1)) throw new ArgumentOutOfRangeException(nameof(dropoutP), $"{Op}: dropoutP must be in [0, 1]; got {dropoutP}.");
        double s = scale ?? 1 / Math.Sqrt(query.Sizes[^1]);
        if (!(s > 0 && double.IsFinite(s))) throw new ArgumentOutOfRangeException(nameof(scale), $"{Op}: scale must be positive and finite; got {s}.");

        var batch = Shape.Broadcast(Shape.Broadcast(new Shape(query.Sizes[..^2]), new Shape(key.Sizes[..^2]), Op), new Shape(value.Sizes[..^2]), Op);
        int queries = query.Sizes[^2], keys = key.Sizes[^2];
        int[] scoreSizes = [.. batch.Dims, queries, keys];
        var q = query.ExpandTo([.. batch.Dims, queries, query.Sizes[^1]]);
        var k = key.ExpandTo([.. batch.Dims, keys, key.Sizes[^1]]);
        var v = value.ExpandTo([.. batch.Dims, keys, value.Sizes[^1]]);

        Tensor? keep = null, additive = null;
        if (attnMask is not null)
        {
            int lead = scoreSizes.Length - attnMask.Rank;
            for (int d = 0; d < attnMask.Rank; d++)
                if (lead < 0 || (attnMask.Sizes[d] != 1 && attnMask.Sizes[d] != scoreSizes[lead + d]))
                    throw new ShapeMismatchException(Op, $"attnMask {attnMask.Shape} does not broadcast to the scores [..., Lq, Lk] = {Shape.Format(scoreSizes)}");
            if (attnMask.DType == DType.Bool) keep = attnMask.ExpandTo(scoreSizes);
            else if (attnMask.DType == query.DType) additive = attnMask.ExpandTo(scoreSizes);
            else throw new ArgumentException($"{Op}: attnMask must be Bool or of the query's dtype ({query.DType.DisplayName()}); got {attnMask.DType.DisplayName()}.");
        }
        Tensor? dropout = null;
        if (dropoutP > 0)
            dropout = dropoutP == 1
                ? Tensor.Zeros(new Shape(scoreSizes), query.DType, query.Device)
                : DropoutMask(query.ScalarLike(0).ExpandTo(scoreSizes), dropoutP, generator ?? Generator.Default);
        return ScaledDotProductAttentionOp.Apply(q, k, v, additive, keep, isCausal, s, dropout);
    }
}
