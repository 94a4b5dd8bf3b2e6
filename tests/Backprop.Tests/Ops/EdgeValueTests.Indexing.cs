using Backprop.Ops;

namespace Backprop.Tests.Ops;

public partial class EdgeValueTests
{
    private static readonly Tensor RepeatedFirst = Tensor.FromArray(new long[] { 0, 0, -1 });
    private static readonly Tensor NothingMasked = Tensor.FromArray(new double[] { 0, 0, 0 });
    private static readonly Tensor LastTwoMasked = Tensor.FromArray(new double[] { 0, 1, 1 });

    /// <summary>The indexer's reads (gathers) and writes (CopySlices through a scatter) at their edges.</summary>
    private static IEnumerable<EdgeRow> IndexingRows =>
    [
        // A repeated index reads the element twice, so its gradient adds up; NaN and Inf are read through unchanged.
        new(typeof(IndexSelectOp), "Indexer repeated index over NaN and Inf", x => x[0][RepeatedFirst], [V(NaN, 1, Inf)],
            V(NaN, NaN, Inf), [V(2, 0, 1)]),
        new(typeof(IndexSelectOp), "Indexer mask selecting nothing", x => x[0][TensorIndex.Mask(NothingMasked)], [V(NaN, Inf, 1)],
            Empty(0), [V(0, 0, 0)]),
        new(typeof(FlipOp), "Indexer reversed slice of NaN and Inf", x => x[0][TensorIndex.Slice(null, null, -1)], [V(NaN, -Inf, 2)],
            V(2, -Inf, NaN), [V(1, 1, 1)]),
        // Overwritten NaN and Inf leave no trace: the base gets a zero gradient there, the written values a one.
        new(typeof(ScatterOp), "Indexer masked write over NaN and Inf", x => Written(x[0], c => c[TensorIndex.Mask(LastTwoMasked)] = x[1]),
            [V(1, NaN, Inf), V(-Inf, 3)], V(1, -Inf, 3), [V(1, 0, 0), V(1, 1)]),
        new(typeof(ScatterOp), "Indexer empty write", x => Written(x[0], c => c[TensorIndex.Mask(NothingMasked)] = x[1]),
            [V(NaN, 1, 2), Empty(0)], V(NaN, 1, 2), [V(1, 1, 1), Empty(0)]),
    ];

    private static Tensor Written(Tensor x, Action<Tensor> write)
    {
        var c = x.Clone();
        write(c);
        return c;
    }
}
