using Backprop.Ops;

namespace Backprop.Tests.Ops;

/// <summary>
/// Scans, sorts and reorderings at their edges. Sort, topk, kthvalue, median(dim) and mode select values by index, so
/// their gradient goes to the selected positions through Gather (PyTorch's value_selecting_reduction_backward);
/// median of all shares it among the equal elements (evenly_distribute_backward).
/// </summary>
public partial class EdgeValueTests
{
    private static IEnumerable<EdgeRow> OrderingRows =>
    [
        // ---- Scans ----
        // Inf − Inf is NaN and stays NaN; the gradient of a running sum is the reverse running sum of g.
        new(typeof(CumsumOp), "infinities and NaN", x => x[0].Cumsum(0), [V(1, Inf, -Inf, 2)], V(1, Inf, NaN, NaN), [V(4, 3, 2, 1)]),
        new(typeof(CumsumOp), "empty", x => x[0].Cumsum(1), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),
        // ∂L/∂xₖ = Σ_{j ≥ k} gⱼ Π_{i ≤ j, i ≠ k} xᵢ (cumprod_backward): the first zero gets 2 + 2·3, later ones 0.
        new(typeof(CumprodOp), "zeros", x => x[0].Cumprod(0), [V(2, 0, 3, 0, 5)], V(2, 0, 0, 0, 0), [V(1, 8, 0, 0, 0)]),
        new(typeof(CumprodOp), "leading zero", x => x[0].Cumprod(0), [V(0, 2, 3)], V(0, 0, 0), [V(9, 0, 0)]),
        new(typeof(CumprodOp), "infinity times zero, NaN", x => x[0].Cumprod(0), [V(2, Inf, 0, NaN)], V(2, Inf, NaN, NaN), [null]),
        new(typeof(CumprodOp), "empty", x => x[0].Cumprod(0), [Empty(0)], Empty(0), [Empty(0)]),

        // ---- Reorderings ----
        new(typeof(FlipOp), "infinity and NaN", x => x[0].Flip(0), [V(1, NaN, Inf)], V(Inf, NaN, 1), [V(30, 20, 10)]) { Upstream = V(10, 20, 30) },
        new(typeof(FlipOp), "empty", x => x[0].Flip(0, 1), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),
        new(typeof(RollOp), "shift beyond the size", x => x[0].Roll(4, 1), [T([2, 3], 1, NaN, 3, 4, 5, -Inf)],
            T([2, 3], 3, 1, NaN, -Inf, 4, 5), [T([2, 3], 20, 30, 10, 50, 60, 40)]) { Upstream = T([2, 3], 10, 20, 30, 40, 50, 60) },
        new(typeof(RollOp), "empty", x => x[0].Roll(3, 0), [Empty(0, 2)], Empty(0, 2), [Empty(0, 2)]),
        new(typeof(ExpandOp), "Repeat with NaN", x => x[0].Repeat(2), [V(1, NaN)], V(1, NaN, 1, NaN), [V(2, 2)]),
        new(typeof(ExpandOp), "Tile empty", x => x[0].Tile(2), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),

        // ---- Order statistics ----
        // Ties share the gradient; a NaN median is produced by the NaN elements, which share it.
        new(typeof(MedianOp), "ties", x => x[0].Median(), [V(2, 5, 2, 1, 9)], 2.0, [V(0.5, 0, 0.5, 0, 0)]),
        new(typeof(MedianOp), "even count is the lower median", x => x[0].Median(), [V(4, -Inf, Inf, 2)], 2.0, [V(0, 0, 0, 1)]),
        new(typeof(MedianOp), "NaN propagates", x => x[0].Median(), [V(NaN, 1, NaN)], NaN, [V(0.5, 0, 0.5)]),
        new(typeof(MedianOp), "empty is NaN", x => x[0].Median(), [Empty(0)], NaN, [Empty(0)]),
        // Ascending order puts NaN last; the gradient goes back through the permutation.
        new(typeof(GatherOp), "Sort with NaN and ties", x => x[0].Sort().Values, [V(3, NaN, -Inf, 3)], V(-Inf, 3, 3, NaN),
            [V(2, 4, 1, 3)]) { Upstream = V(1, 2, 3, 4) },
        new(typeof(GatherOp), "TopK counts NaN as the largest", x => x[0].TopK(2).Values, [V(1, NaN, Inf, 5)], V(NaN, Inf), [V(0, 1, 1, 0)]),
        new(typeof(GatherOp), "Kthvalue with ties", x => x[0].Kthvalue(2).Values, [V(2, 2, 1)], 2.0, [V(1, 0, 0)]),
        // median(dim) picks one element, the first NaN of a slice that has one.
        new(typeof(GatherOp), "Median dim with NaN", x => x[0].Median(1).Values, [T([2, 2], 1, NaN, 3, 4)], V(NaN, 3), [T([2, 2], 0, 1, 1, 0)]),
        new(typeof(GatherOp), "Mode tie goes to the smaller value", x => x[0].Mode().Values, [V(1, 2, 2, 1, 3)], 1.0, [V(0, 0, 0, 1, 0)]),
    ];
}
