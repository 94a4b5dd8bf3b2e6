using System.Runtime.CompilerServices;
using Backprop.Ops;

namespace Backprop.Nn;

public static partial class Functional
{
    /// <summary>Mean absolute error |x − y|.</summary>
    public static Tensor L1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        using var site = CallSite.Enter(callerFile, callerLine);
        (input, target) = (Autocast.ToFloat32(input), Autocast.ToFloat32(target));
        CheckSameShape("L1Loss", input, target);
        return Reduce(AbsoluteErrorLossOp.Apply(input, target, AbsoluteErrorLossOp.Kind.L1, 0), reduction);
    }

    /// <summary>
    /// Huber loss: ½d² where |d| &lt; <paramref name="delta"/>, δ(|d| − ½δ) beyond, for d = x − y: squared error
    /// near the target and absolute error (so bounded gradients) for outliers.
    /// </summary>
    public static Tensor HuberLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double delta = 1.0,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        using var site = CallSite.Enter(callerFile, callerLine);
        (input, target) = (Autocast.ToFloat32(input), Autocast.ToFloat32(target));
        CheckSameShape("HuberLoss", input, target);
        if (!(delta > 0)) throw new ArgumentOutOfRangeException(nameof(delta), $"HuberLoss: delta must be positive; got {delta}.");
        return Reduce(AbsoluteErrorLossOp.Apply(input, target, AbsoluteErrorLossOp.Kind.Huber, delta), reduction);
    }

    /// <summary>
    /// Smooth L1: ½d²/β where |d| &lt; <paramref name="beta"/>, |d| − ½β beyond (Huber divided by β); β = 0 gives L1.
    /// </summary>
    public static Tensor SmoothL1Loss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, double beta = 1.0,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        using var site = CallSite.Enter(callerFile, callerLine);
        (input, target) = (Autocast.ToFloat32(input), Autocast.ToFloat32(target));
        CheckSameShape("SmoothL1Loss", input, target);
        if (!(beta >= 0)) throw new ArgumentOutOfRangeException(nameof(beta), $"SmoothL1Loss: beta must be non-negative; got {beta}.");
        var kind = beta == 0 ? AbsoluteErrorLossOp.Kind.L1 : AbsoluteErrorLossOp.Kind.SmoothL1;
        return Reduce(AbsoluteErrorLossOp.Apply(input, target, kind, beta), reduction);
    }

    /// <summary>
    /// Negative log-likelihood of log-probabilities ([N, C, d…]) at the target classes, weighted by class, plus the
    /// label-smoothing term ε/C·(−Σ_c w_c log p_c), as PyTorch defines it: the mean divides by the summed weight of the
    /// non-ignored targets, for both terms.
    /// </summary>
    private static Tensor WeightedNll(string op, Tensor logProbs, Tensor target, Tensor? weight, Reduction reduction,
        long ignoreIndex, double labelSmoothing)
    {
        CrossEntropyOp.CheckShapes(logProbs, target);
        int classes = logProbs.Size(1);
        if (weight is not null)
        {
            if (weight.Rank != 1 || weight.Size(0) != classes)
                throw new ShapeMismatchException(op, $"class weights must have shape [{classes}] for input {logProbs.Shape}; got {weight.Shape}");
            weight = weight.To(logProbs.DType);
        }
        var valid = target.Ne(ignoreIndex);
        var safeTarget = Tensor.Where(valid, target, target.ScalarLike(0));
        var picked = -logProbs.Gather(1, safeTarget.Unsqueeze(1)).Squeeze(1);
        var sampleWeight = valid.To(logProbs.DType);
        if (weight is not null) sampleWeight *= weight.IndexSelect(0, safeTarget.Reshape(-1)).Reshape(safeTarget.Sizes);
        var losses = picked * sampleWeight;
        if (labelSmoothing > 0)
        {
            var weighted = logProbs;
            if (weight is not null)
            {
                var classShape = new int[logProbs.Rank];
                Array.Fill(classShape, 1);
                classShape[1] = classes;
                weighted = logProbs * weight.Reshape(classShape);
            }
            var smooth = -weighted.Sum(1) * valid.To(logProbs.DType);
            losses = losses * (1 - labelSmoothing) + smooth * (labelSmoothing / classes);
        }
        return reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => losses.Sum(),
            _ => losses.Sum() / sampleWeight.Sum(),
        };
    }
}
