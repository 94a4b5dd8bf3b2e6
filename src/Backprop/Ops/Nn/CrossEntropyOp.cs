using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// Cross-entropy of class logits against Int64 targets, fused: one log-softmax forward, and the textbook gradient
/// softmax − one-hot (scaled by the reduction) in one node instead of log-softmax, gather and mean. Targets equal to
/// the ignore index contribute nothing and are not counted in the mean.
/// </summary>
internal sealed class CrossEntropyOp : Node, IGradchecked
{
    private readonly Nn.Reduction _reduction;
    private readonly double _count;
    private readonly long _ignoreIndex;

    private CrossEntropyOp(Tensor logits, Tensor logProbs, Tensor targets, Tensor valid, Nn.Reduction reduction, double count, long ignoreIndex) : base(logits)
    {
        _reduction = reduction;
        _count = count;
        _ignoreIndex = ignoreIndex;
        Save(logProbs, targets, valid);
    }

    /// <param name="logits">[N, C] or [N, C, d1, …]</param>
    /// <param name="targets">Int64 class indices, [N] or [N, d1, …]</param>
    public static Tensor Apply(Tensor logits, Tensor targets, Nn.Reduction reduction, long ignoreIndex)
    {
        Tensor.CheckSameDevice("CrossEntropy", logits, ("the target", targets));
        CheckShapes(logits, targets);
        Tensor valid, loss, perSample;
        double count;
        // Recorded when the logits require grad: the first-order backward never visits that node (this op's edge goes
        // straight to the logits), but a backward with createGraph differentiates the saved log-probabilities through it.
        var logProbs = LogSoftmaxOp.Apply(logits, 1);
        using (Autograd.NoGrad())
        {
            if (logits.Rank == 2)
            {
                // [N, C]: the per-row kernel picks, masks and counts in one pass.
                var backend = logProbs.Backend;
                perSample = Tensor.Empty([logits.Sizes[0]], logits.DType, backend);
                valid = Tensor.Empty([logits.Sizes[0]], logits.DType, backend);
                count = backend.CrossEntropyRows(logProbs.Strided, targets.Strided, ignoreIndex, perSample.Strided, valid.Strided);
            }
            else
            {
                var validMask = targets.Ne(ignoreIndex);
                valid = validMask.To(logits.DType);
                var picked = logProbs.Gather(1, SafeTargets(targets, ignoreIndex).Unsqueeze(1)).Squeeze(1);
                perSample = -picked * valid;
                count = valid.Sum().Item();
            }
            loss = reduction switch
            {
                Nn.Reduction.None => perSample,
                Nn.Reduction.Sum => perSample.Sum(),
                _ => perSample.SumDividedBy(count),
            };
        }
        return Autograd.IsRecording(logits)
            ? new CrossEntropyOp(logits, logProbs, targets, valid, reduction, count, ignoreIndex).Attach(loss)
            : loss;
    }

    /// <summary>The targets with ignored entries replaced by class 0 (their rows are masked out), so they index safely.</summary>
    private static Tensor SafeTargets(Tensor targets, long ignoreIndex) => Tensor.Where(targets.Ne(ignoreIndex), targets, targets.ScalarLike(0));

    internal static void CheckShapes(Tensor logits, Tensor targets)
    {
        if (targets.DType != DType.Int64)
            throw new ArgumentException($"CrossEntropy: targets must be int64 class indices; got {targets.DType.DisplayName()}. " +
                "For probabilities or one-hot targets, use BinaryCrossEntropy or a soft-target loss.");
        if (logits.Rank < 2)
            throw new ShapeMismatchException("CrossEntropy", $"logits must be [N, C] or [N, C, ...]; got {logits.Shape}");
        var expected = logits.Sizes.Where((_, i) => i != 1).ToArray();
        if (!expected.AsSpan().SequenceEqual(targets.Sizes))
            throw new ShapeMismatchException("CrossEntropy", $"logits {logits.Shape} need targets of shape {Shape.Format(expected)}; got {targets.Shape}");
    }

    // ∂L/∂logits = (softmax − one-hot) times each sample's share of the output gradient. Under createGraph, softmax =
    // exp(logProbs) records through the log-softmax node, so the second derivative (softmax's Jacobian) is exact.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var logProbs = Saved(0);
        var targets = Saved(1);
        var valid = Saved(2);
        var scale = _reduction switch
        {
            Nn.Reduction.None => g * valid,
            Nn.Reduction.Sum => valid * g,
            _ => valid * (g / _count),
        };
        if (logProbs.Rank == 2 && !Autograd.BackwardRecords)
        {
            var gradient = Tensor.Empty(logProbs.Sizes, logProbs.DType, logProbs.Backend);
            logProbs.Backend.CrossEntropyRowsBackward(logProbs.Strided, targets.Strided, _ignoreIndex, scale.Strided, gradient.Strided);
            gradient.IsExclusiveGradient = true;
            grads[0] = gradient;
            return;
        }
        int classes = logProbs.Sizes[1];
        var oneHot = SafeTargets(targets, _ignoreIndex).OneHot(classes, logProbs.DType);
        if (logProbs.Rank > 2) oneHot = oneHot.Permute([0, oneHot.Rank - 1, .. Enumerable.Range(1, oneHot.Rank - 2)]);
        grads[0] = (logProbs.Exp() - oneHot) * scale.Unsqueeze(1);
    }

    private static readonly Tensor Targets = Tensor.FromArray(new long[] { 2, 0, 4, 1 });
    private static readonly Tensor TargetsWithIgnored = Tensor.FromArray(new long[] { 2, -100, 4, 1 });
    private static readonly Tensor SpatialTargets = Tensor.FromArray(new long[] { 0, 2, 1, 1, 2, 0 }, 2, 3);

    // The log-softmax's tangent t − Σ softmax·t, picked at each target and reduced as the loss is.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var logProbs = Saved(0);
        var tangent = t[0]!;
        var logProbsTangent = tangent - (logProbs.Exp() * tangent).Sum(1, keepDim: true);
        var perSample = -logProbsTangent.Gather(1, SafeTargets(Saved(1), _ignoreIndex).Unsqueeze(1)).Squeeze(1) * Saved(2);
        return _reduction switch
        {
            Nn.Reduction.None => perSample,
            Nn.Reduction.Sum => perSample.Sum(),
            _ => perSample.Sum() / _count,
        };
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("CrossEntropy", x => Nn.Functional.CrossEntropy(x[0], Targets), [4, 5]),
        new("CrossEntropy sum transposed", x => Nn.Functional.CrossEntropy(x[0], Targets, reduction: Nn.Reduction.Sum), GradcheckInput.Transposed(4, 5)),
        new("CrossEntropy none", x => Nn.Functional.CrossEntropy(x[0], Targets, reduction: Nn.Reduction.None), [4, 5]),
        new("CrossEntropy ignore index", x => Nn.Functional.CrossEntropy(x[0], TargetsWithIgnored), [4, 5]),
        new("CrossEntropy spatial", x => Nn.Functional.CrossEntropy(x[0], SpatialTargets), [2, 3, 3]),
    ];
}
