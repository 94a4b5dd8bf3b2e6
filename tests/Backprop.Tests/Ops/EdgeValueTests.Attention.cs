using Backprop.Ops;
using static Backprop.Nn.Functional;

namespace Backprop.Tests.Ops;

/// <summary>
/// Scaled dot-product attention at its edges: saturated softmax (scores of ±1e4), a query whose keys are all masked
/// (zeros, where PyTorch gives NaN: the library's documented choice), and no keys at all.
/// </summary>
public partial class EdgeValueTests
{
    private static Tensor KeepFirstRowOnly => Tensor.FromArray(new[] { true, true, false, false }, 2, 2);

    private static IEnumerable<EdgeRow> AttentionRows =>
    [
        // Scores of ±1e4 (scale 1): each query puts weight exactly 1 on one key, e^(−2e4) = 0. The saturated softmax
        // passes no gradient to query or key; each value gets the weight of the one query that picks it.
        new(typeof(ScaledDotProductAttentionOp), "scores of ±1e4", x => ScaledDotProductAttention(x[0], x[1], x[2], scale: 1),
            [T([3, 2], 100, 0, 0, 100, -100, 0), T([3, 2], 100, 0, 0, 100, -100, -100), T([3, 1], 1, 2, 3)], T([3, 1], 1, 2, 3),
            [T([3, 2], 0, 0, 0, 0, 0, 0), T([3, 2], 0, 0, 0, 0, 0, 0), T([3, 1], 1, 1, 1)]),
        // Query 0 attends both keys equally (scores 0): output (3 + 5)/2, ∂/∂s = P ⊙ (v − P·v) = (−½, ½), so ∂L/∂k = (−½, ½)·q₀.
        // Query 1 has every key masked: output 0, no gradient to anything.
        new(typeof(ScaledDotProductAttentionOp), "a query with every key masked", x => ScaledDotProductAttention(x[0], x[1], x[2], KeepFirstRowOnly, scale: 1),
            [T([2, 1], 1, 2), T([2, 1], 0, 0), T([2, 1], 3, 5)], T([2, 1], 4, 0),
            [T([2, 1], 0, 0), T([2, 1], -0.5, 0.5), T([2, 1], 0.5, 0.5)]),
        // The same query masked by an additive −∞ row instead: zeros again, not the NaN of 0/0.
        new(typeof(ScaledDotProductAttentionOp), "an additive −∞ row", x => ScaledDotProductAttention(x[0], x[1], x[2],
                Tensor.FromArray(new[] { 0.0, 0, double.NegativeInfinity, double.NegativeInfinity }, 2, 2).To(x[0].DType), scale: 1),
            [T([2, 1], 1, 2), T([2, 1], 0, 0), T([2, 1], 3, 5)], T([2, 1], 4, 0),
            [T([2, 1], 0, 0), T([2, 1], -0.5, 0.5), T([2, 1], 0.5, 0.5)]),
        // No keys: every query attends nothing.
        new(typeof(ScaledDotProductAttentionOp), "no keys", x => ScaledDotProductAttention(x[0], x[1], x[2]),
            [T([2, 1], 1, 2), Empty(0, 1), Empty(0, 3)], T([2, 3], 0, 0, 0, 0, 0, 0), [T([2, 1], 0, 0), Empty(0, 1), Empty(0, 3)]),
        // A NaN score spreads over its query's row only.
        new(typeof(ScaledDotProductAttentionOp), "NaN in a key", x => ScaledDotProductAttention(x[0], x[1], x[2], scale: 1),
            [T([2, 1], 1, 0), T([2, 1], NaN, 0), T([2, 1], 3, 5)], T([2, 1], NaN, NaN), [null, null, null]),
    ];
}
