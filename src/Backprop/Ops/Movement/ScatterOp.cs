using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// torch.scatter and torch.scatter_reduce: a copy of x with each source element combined into the position the
/// index names along one dim. The backward follows PyTorch's scatter_reduce_backward, written with tensor ops so it
/// is itself differentiable.
/// </summary>
internal sealed class ScatterOp : Node, IGradchecked
{
    private readonly int _dim;
    private readonly ScatterReduction _reduction;
    private readonly bool _includeSelf;

    private ScatterOp(Tensor x, Tensor source, int dim, Tensor index, ScatterReduction reduction, bool includeSelf, Tensor y)
        : base(x, source)
    {
        _dim = dim;
        _reduction = reduction;
        _includeSelf = includeSelf;
        // The values are needed only by the reductions whose gradient depends on them.
        bool valued = reduction is ScatterReduction.Prod or ScatterReduction.Amax or ScatterReduction.Amin;
        Save(index, valued ? x : null, valued ? source : null, valued ? y : null);
    }

    /// <summary><paramref name="source"/> must have the index's shape and x's dtype; <paramref name="dim"/> is normalised.</summary>
    public static Tensor Apply(Tensor x, int dim, Tensor index, Tensor source, ScatterReduction reduction, bool includeSelf)
    {
        string op = reduction == ScatterReduction.Replace ? "Scatter" : "ScatterReduce";
        CheckIndex(op, x, index);
        if (index.Shape != source.Shape)
            throw new ShapeMismatchException(op, $"index has shape {index.Shape} but source has shape {source.Shape}");
        if (source.DType != x.DType)
            throw new ArgumentException($"{op}: the source is {source.DType.DisplayName()} but the input is {x.DType.DisplayName()}; they must match.");
        var y = CloneOp.Apply(x.Detach());
        x.Backend.ScatterReduce(y.Strided, dim, index.Strided, source.Strided, reduction, includeSelf);
        return Autograd.IsRecording(x, source) ? new ScatterOp(x, source, dim, index, reduction, includeSelf, y).Attach(y) : y;
    }

    internal static void CheckIndex(string op, Tensor x, Tensor index)
    {
        if (index.DType != DType.Int64)
            throw new ArgumentException($"{op}: the index must be int64; got {index.DType.DisplayName()} of shape {index.Shape}.");
        if (index.Rank != x.Rank)
            throw new ShapeMismatchException(op, $"index of shape {index.Shape} must have the rank of the input {x.Shape}");
    }

    /// <summary>1 where some index element lands along <paramref name="dim"/>, 0 elsewhere, in x's shape and dtype (no graph).</summary>
    internal static Tensor Targets(Tensor x, int dim, Tensor index)
    {
        var mask = Tensor.Zeros(x.Shape, x.DType, x.Device);
        x.Backend.ScatterReduce(mask.Strided, dim, index.Strided, Tensor.Ones(index.Shape, x.DType, x.Device).Strided,
            ScatterReduction.Replace, includeSelf: true);
        return mask;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var index = Saved(0);
        var targets = _includeSelf && _reduction != ScatterReduction.Replace ? null : Targets(g, _dim, index);
        Tensor gradSelf, gradSource;
        switch (_reduction)
        {
            case ScatterReduction.Replace:
            case ScatterReduction.Sum:
                gradSelf = g;
                gradSource = GatherOp.Apply(g, _dim, index);
                break;
            case ScatterReduction.Mean:
            {
                // N counts the values averaged into each element; untouched elements keep theirs (N = 1).
                var counts = _includeSelf ? Tensor.OnesLike(g) : Tensor.ZerosLike(g);
                AddOnesAtTargets(counts, index);
                counts = Tensor.Where(counts.Eq(0.0), 1.0, counts);
                gradSelf = g / counts;
                gradSource = GatherOp.Apply(gradSelf, _dim, index);
                break;
            }
            case ScatterReduction.Prod:
                (gradSelf, gradSource) = ProdGradients(g, index);
                break;
            default:
                (gradSelf, gradSource) = ExtremumGradients(g, index, targets);
                break;
        }
        if (targets is not null) gradSelf = Tensor.Where(targets, 0.0, gradSelf);
        if (NeedsGrad(0)) grads[0] = gradSelf;
        if (NeedsGrad(1)) grads[1] = gradSource;
    }

    private void AddOnesAtTargets(Tensor counts, Tensor index) =>
        counts.Backend.ScatterReduce(counts.Strided, _dim, index.Strided, Tensor.Ones(index.Shape, counts.DType, counts.Device).Strided,
            ScatterReduction.Sum, includeSelf: true);

    // A product's gradient is the product of the other factors. Dividing the result by a factor fails where that
    // factor is 0, so (as PyTorch does) zeros are replaced by 1 and the product is recomputed without them.
    private (Tensor Self, Tensor Source) ProdGradients(Tensor g, Tensor index)
    {
        Tensor self = Saved(1), source = Saved(2), result = Saved(3);
        var maskedSelf = Tensor.Where(self.Eq(0.0), 1.0, self);
        var gradSelf = g * Apply(maskedSelf, _dim, index, source, ScatterReduction.Prod, _includeSelf) / maskedSelf;

        var sourceZero = source.Eq(0.0).To(source.DType);
        var zerosPerTarget = Tensor.ZerosLike(self);
        zerosPerTarget.Backend.ScatterAdd(zerosPerTarget.Strided, _dim, index.Strided, sourceZero.Strided);
        var singleZero = sourceZero * GatherOp.Apply(zerosPerTarget, _dim, index).Eq(1.0);
        var maskedSource = Tensor.Where(singleZero, 1.0, source);
        var withoutTheZero = Apply(self, _dim, index, maskedSource, ScatterReduction.Prod, _includeSelf);
        var gradSource = Tensor.Where(singleZero,
            GatherOp.Apply(g * withoutTheZero, _dim, index),
            GatherOp.Apply(g * result, _dim, index) / Tensor.Where(sourceZero, 1.0, source));
        return (gradSelf, gradSource);
    }

    // The gradient is shared evenly among the values equal to the result (self, when it took part, and the sources).
    private (Tensor Self, Tensor Source) ExtremumGradients(Tensor g, Tensor index, Tensor? targets)
    {
        Tensor self = Saved(1), source = Saved(2), result = Saved(3);
        var selfIsResult = self.Eq(result).To(self.DType);
        if (targets is not null) selfIsResult = Tensor.Where(targets, 0.0, selfIsResult);
        var sourceIsResult = source.Eq(GatherOp.Apply(result.Detach(), _dim, index)).To(source.DType);
        var ties = selfIsResult.Clone();
        ties.Backend.ScatterAdd(ties.Strided, _dim, index.Strided, sourceIsResult.Strided);
        var shared = g / ties;
        return (selfIsResult * shared, sourceIsResult * GatherOp.Apply(shared, _dim, index));
    }

    private static readonly Tensor Positions = Tensor.FromArray(new long[] { 0, 3, 3, 1, 2, 0 }, 2, 3);
    private static readonly Tensor RowPositions = Tensor.FromArray(new long[] { 2, 0, 2, 0, 2, 1 }, 3, 2);
    // Replacing keeps one of several colliding values but, as in PyTorch, gathers the gradient to all of them, so the
    // replace rows use distinct positions.
    private static readonly Tensor DistinctPositions = Tensor.FromArray(new long[] { 0, 3, 1, 1, 2, 0 }, 2, 3);
    private static readonly Tensor DistinctRowPositions = Tensor.FromArray(new long[] { 2, 0, 0, 1, 1, 2 }, 3, 2);
    private static readonly Tensor DistinctPutRows = Tensor.FromArray(new long[] { 2, 0, 1 });
    private static readonly Tensor Mask = Tensor.FromArray(new long[] { 1, 0, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0 }, 3, 4);
    private static readonly Tensor RowMask = Tensor.FromArray(new[] { 0.0, 2.5, 0.0, -1.0 });
    private static readonly Tensor PutRows = Tensor.FromArray(new long[] { 2, 0, 2 });
    private static readonly Tensor PutCols = Tensor.FromArray(new long[] { 1, 3, 1 });
    private static readonly Tensor AddRows = Tensor.FromArray(new long[] { 1, 1, 0 });

    // Replacing, summing and averaging are linear: the tangents scattered the same way (as PyTorch's JVP, which for
    // colliding replaced positions keeps the same winner as the values). A product or an extreme goes through the
    // backward, which holds the zero and tie cases.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => _reduction is ScatterReduction.Replace or ScatterReduction.Sum or ScatterReduction.Mean
            ? Apply(ForwardAD.OrZeros(t[0], x[0]), _dim, Saved(0), ForwardAD.OrZeros(t[1], x[1]), _reduction, _includeSelf)
            : JvpThroughBackward(t, y);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Scatter", x => x[0].Scatter(1, DistinctPositions, x[1]), [2, 4], [2, 3]),
        new("Scatter dim 0 transposed", x => x[0].Scatter(0, DistinctRowPositions, x[1]), GradcheckInput.Transposed(3, 4), [3, 2]),
        new("Scatter larger source", x => x[0].Scatter(1, DistinctPositions, x[1]), [2, 4], [3, 5]),
        new("Scatter scalar", x => x[0].Scatter(1, Positions, 0.5), [2, 4]),
        new("ScatterReduce sum", x => x[0].ScatterReduce(1, Positions, x[1], ScatterReduction.Sum), [2, 4], [2, 3]),
        new("ScatterReduce sum excluding self", x => x[0].ScatterReduce(1, Positions, x[1], ScatterReduction.Sum, includeSelf: false), [2, 4], [2, 3]),
        new("ScatterReduce prod", x => x[0].ScatterReduce(1, Positions, x[1], ScatterReduction.Prod), [2, 4], GradcheckInput.Strided(2, 3)),
        new("ScatterReduce prod excluding self", x => x[0].ScatterReduce(0, RowPositions, x[1], ScatterReduction.Prod, includeSelf: false), [3, 4], [3, 2]),
        new("ScatterReduce mean", x => x[0].ScatterReduce(1, Positions, x[1], ScatterReduction.Mean), GradcheckInput.Transposed(2, 4), [2, 3]),
        new("ScatterReduce mean excluding self", x => x[0].ScatterReduce(1, Positions, x[1], ScatterReduction.Mean, includeSelf: false), [2, 4], [2, 3]),
        new("ScatterReduce amax", x => x[0].ScatterReduce(1, Positions, x[1], ScatterReduction.Amax), [2, 4], [2, 3]),
        new("ScatterReduce amax excluding self", x => x[0].ScatterReduce(0, RowPositions, x[1], ScatterReduction.Amax, includeSelf: false), [3, 4], [3, 2]),
        new("ScatterReduce amin", x => x[0].ScatterReduce(1, Positions, x[1], ScatterReduction.Amin), [2, 4], GradcheckInput.Transposed(2, 3)),
        new("ScatterReduce amin excluding self", x => x[0].ScatterReduce(1, Positions, x[1], ScatterReduction.Amin, includeSelf: false), [2, 4], [2, 3]),
        new("MaskedFill", x => x[0].MaskedFill(Mask, -1.5), GradcheckInput.Transposed(3, 4)),
        new("MaskedFill broadcast mask, tensor value", x => x[0].MaskedFill(RowMask, x[1]), [3, 4], []),
        new("IndexPut", x => x[0].IndexPut([DistinctPutRows, PutCols], x[1]), [3, 4, 2], [3, 2]),
        new("IndexPut accumulate broadcast", x => x[0].IndexPut([PutRows, PutCols], x[1], accumulate: true), GradcheckInput.Strided(3, 4), [1]),
        new("IndexAdd alpha", x => x[0].IndexAdd(0, AddRows, x[1], alpha: -2.5), [2, 4], GradcheckInput.Transposed(3, 4)),
        // Writes through the indexer while recording (CopySlices): the clone's graph is rebased onto a scatter.
        new("Indexer write into slice", x => WrittenClone(x[0], c => c[1.., 1..3] = x[1] * 2) * x[0], [3, 4], [2, 2]),
        new("Indexer write broadcast into strided slice", x => WrittenClone(x[0], c => c[TensorIndex.Slice(0, null, 2), 0] = x[1]).Exp(), GradcheckInput.Transposed(4, 3), []),
        new("Indexer masked write", x => WrittenClone(x[0], c => c[TensorIndex.Mask(WriteMask)] = x[1]) * x[0], [2, 3], [3]),
        new("Indexer index_put write", x => WrittenClone(x[0], c => c[DistinctPutRows, PutCols] = x[1]).Sum(1), [3, 4], [3]),
        new("Indexer write reversed slice", x => WrittenClone(x[0], c => c[.., TensorIndex.Slice(null, null, -2)] = x[1]).Square(), [2, 5], GradcheckInput.Strided(2, 3)),
        new("In-place op on a view", x => WrittenClone(x[0], c => c[0].AddInPlace(x[1].Square())) * x[0], [2, 3], [3]),
        new("View of the written clone", x =>
        {
            var c = x[0].Clone();
            var row = c[1];
            row[1..] = x[1];
            return row * c[0];
        }, [2, 3], [2]),
    ];

    private static readonly Tensor WriteMask = Tensor.FromArray(new double[,] { { 1, 0, 1 }, { 0, 0, 1 } });

    /// <summary>A clone of <paramref name="x"/> after <paramref name="write"/> changed it in place.</summary>
    private static Tensor WrittenClone(Tensor x, Action<Tensor> write)
    {
        var c = x.Clone();
        write(c);
        return c;
    }
}
