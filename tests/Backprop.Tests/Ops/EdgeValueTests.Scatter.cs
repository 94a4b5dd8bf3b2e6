using Backprop.Ops;

namespace Backprop.Tests.Ops;

public partial class EdgeValueTests
{
    private static readonly Tensor FirstTwo = Tensor.FromArray(new long[] { 0, 1 });
    private static readonly Tensor BothFirst = Tensor.FromArray(new long[] { 0, 0 });
    private static readonly Tensor FillFirstTwo = Tensor.FromArray(new long[] { 1, 1, 0 });
    private static readonly Tensor NoMask = Tensor.FromArray(Array.Empty<long>(), 0);

    /// <summary>MaskedFill, Scatter, ScatterReduce and IndexPut at their edges (PyTorch's scatter_reduce_backward rules).</summary>
    private static IEnumerable<EdgeRow> ScatterRows =>
    [
        // masked_fill's backward is grad.masked_fill(mask, 0): NaN and Inf under the mask never reach the gradient.
        new(typeof(WhereOp), "MaskedFill over NaN and Inf", x => x[0].MaskedFill(FillFirstTwo, 0), [V(NaN, Inf, 1)], V(0, 0, 1), [V(0, 0, 1)]),
        new(typeof(WhereOp), "MaskedFill empty", x => x[0].MaskedFill(NoMask, 1), [Empty(0)], Empty(0), [Empty(0)]),
        new(typeof(ScatterOp), "Scatter empty index", x => x[0].Scatter(1, EmptyRowIndex, x[1]), [T([2, 2], 1, NaN, Inf, 4), Empty(2, 0)],
            T([2, 2], 1, NaN, Inf, 4), [Full([2, 2], 1), Empty(2, 0)]),
        new(typeof(ScatterOp), "Scatter replaces NaN, which gets no gradient", x => x[0].Scatter(0, FirstTwo, x[1]), [V(NaN, 1, 2), V(Inf, -Inf)],
            V(Inf, -Inf, 2), [V(0, 0, 1), V(1, 1)]),
        // prod: a zero factor gets the product of the others, a zero self the product of the sources.
        new(typeof(ScatterOp), "ScatterReduce prod with zeros", x => x[0].ScatterReduce(0, FirstTwo, x[1], ScatterReduction.Prod),
            [V(2, 0), V(0, 3)], V(0, 0), [V(0, 3), V(2, 0)]),
        // amax ties: the gradient is shared evenly by self and the sources equal to the result.
        new(typeof(ScatterOp), "ScatterReduce amax three-way tie", x => x[0].ScatterReduce(0, BothFirst, x[1], ScatterReduction.Amax),
            [V(5), V(5, 5)], V(5), [V(1.0 / 3), V(1.0 / 3, 1.0 / 3)]),
        new(typeof(ScatterOp), "ScatterReduce amin at -Inf", x => x[0].ScatterReduce(0, BothFirst, x[1], ScatterReduction.Amin),
            [V(1, 2), V(-Inf, 0)], V(-Inf, 2), [V(0, 1), V(1, 0)]),
        // A NaN result equals nothing, so N_to_distribute is 0 and PyTorch's grad / N · (x == result) is 0 · Inf = NaN.
        new(typeof(ScatterOp), "ScatterReduce amax NaN source", x => x[0].ScatterReduce(0, FirstTwo, x[1], ScatterReduction.Amax),
            [V(0, 0), V(NaN, 1)], V(NaN, 1), [V(NaN, 0), V(NaN, 1)]),
        new(typeof(ScatterOp), "ScatterReduce mean of no sources keeps self", x => x[0].ScatterReduce(0, NoIndices, x[1], ScatterReduction.Mean, includeSelf: false),
            [V(1, NaN), Empty(0)], V(1, NaN), [V(1, 1), Empty(0)]),
        new(typeof(ScatterOp), "ScatterReduce sum of opposite infinities", x => x[0].ScatterReduce(0, BothFirst, x[1], ScatterReduction.Sum),
            [V(1, 2), V(Inf, -Inf)], V(NaN, 2), [V(1, 1), V(1, 1)]),
        new(typeof(IndexAddOp), "IndexPut accumulate opposite infinities", x => x[0].IndexPut([BothFirst], x[1], accumulate: true),
            [V(1, 2), V(Inf, -Inf)], V(NaN, 2), [V(1, 1), V(1, 1)]),
        new(typeof(ScatterOp), "IndexPut empty indices", x => x[0].IndexPut([NoIndices], x[1]), [V(NaN, 1), Empty(0)], V(NaN, 1), [V(1, 1), Empty(0)]),

        // ---- Norms (torch.linalg.vector_norm's backward) ----
        new(typeof(NormOp), "p=2 of a zero vector", x => x[0].Norm(2), [V(0, 0, 0)], 0.0, [V(0, 0, 0)]),
        new(typeof(NormOp), "p=1 kink at 0", x => x[0].Norm(1), [V(0, -2, 3)], 5.0, [V(0, -1, 1)]),
        new(typeof(NormOp), "p=3 of a zero vector", x => x[0].Norm(3), [V(0, 0)], 0.0, [V(0, 0)]),
        new(typeof(NormOp), "p=inf ties share the gradient", x => x[0].Norm(double.PositiveInfinity), [V(-2, 2, 1)], 2.0, [V(-0.5, 0.5, 0)]),
        new(typeof(NormOp), "p=-inf at a zero element", x => x[0].Norm(double.NegativeInfinity), [V(0, 2)], 0.0, [V(0, 0)]),
        new(typeof(NormOp), "p=0 counts nonzeros", x => x[0].Norm(0), [V(0, Inf, NaN, 2)], 3.0, [V(0, 0, 0, 0)]),
        new(typeof(NormOp), "p=2 with an infinity", x => x[0].Norm(2), [V(Inf, 1)], Inf, [V(NaN, 0)]),
        new(typeof(NormOp), "empty is 0", x => x[0].Norm(2), [Empty(0)], 0.0, [Empty(0)]),
        new(typeof(NormOp), "CDist p=2 at zero distance", x => Tensor.CDist(x[0], x[1]), [T([1, 2], 1, 2), T([1, 2], 1, 2)], T([1, 1], 0),
            [T([1, 2], 0, 0), T([1, 2], 0, 0)]),

        // ---- Einsum (lowered onto MatMul) ----
        new(typeof(MatMulOp), "Einsum contraction over an empty dim", x => Tensor.Einsum("ij,jk->ik", x[0], x[1]), [Empty(2, 0), Empty(0, 3)],
            Full([2, 3], 0), [Empty(2, 0), Empty(0, 3)]),
        new(typeof(SumOp), "Einsum trace with NaN off the diagonal", x => Tensor.Einsum("ii", x[0]), [T([2, 2], 1, NaN, Inf, 2)], 3.0,
            [T([2, 2], 1, 0, 0, 1)]),
        new(typeof(MatMulOp), "Einsum dot with zero times infinity", x => Tensor.Einsum("i,i->", x[0], x[1]), [V(Inf, 1), V(0, 2)], NaN,
            [V(0, 2), V(Inf, 1)]),
    ];
}
