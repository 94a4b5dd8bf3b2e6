using Backprop.Ops;

namespace Backprop.Nn;

/// <summary>
/// Layers and losses as plain functions of tensors, for code that holds its own parameters.
/// <c>using static Backprop.Nn.Functional;</c> brings them into scope.
/// </summary>
public static partial class Functional
{
    /// <summary>x·Wᵀ + b for x of shape [..., in], W of shape [out, in] and b of shape [out].</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null) => LinearOp.Apply(x, weight, bias);

    public static Tensor Relu(Tensor x) => x.Relu();
    public static Tensor Sigmoid(Tensor x) => x.Sigmoid();
    public static Tensor Tanh(Tensor x) => x.Tanh();
    public static Tensor LeakyRelu(Tensor x, double negativeSlope = 0.01) => x.LeakyRelu(negativeSlope);
    public static Tensor Elu(Tensor x, double alpha = 1.0) => x.Elu(alpha);
    public static Tensor Gelu(Tensor x) => x.Gelu();
    public static Tensor Softplus(Tensor x, double beta = 1.0) => x.Softplus(beta);
    public static Tensor Silu(Tensor x) => x.Silu();
    public static Tensor Softmax(Tensor x, int dim) => x.Softmax(dim);
    public static Tensor LogSoftmax(Tensor x, int dim) => x.LogSoftmax(dim);

    internal static Tensor Reduce(Tensor loss, Reduction reduction) => reduction switch
    {
        Reduction.Mean => loss.Mean(),
        Reduction.Sum => loss.Sum(),
        _ => loss,
    };

    private static void CheckSameShape(string loss, Tensor input, Tensor target)
    {
        if (input.Shape != target.Shape)
            throw new ShapeMismatchException(loss, $"input {input.Shape} and target {target.Shape} must have the same shape");
    }

    /// <summary>Mean squared error (x − y)².</summary>
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("MseLoss", input, target);
        return Reduce((input - target).Square(), reduction);
    }

    /// <summary>Binary cross-entropy of probabilities (e.g. after a sigmoid), with logs clamped at −100.</summary>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        if (weight is not null && weight.Shape != input.Shape) weight = weight.ExpandAs(input);
        return Reduce(BinaryCrossEntropyOp.Apply(input, target, weight), reduction);
    }

    /// <summary>
    /// Binary cross-entropy of logits: σ and the log in one stable expression, max(x, 0) − x·y + log(1 + e^−|x|)
    /// (here written as softplus(x) − x·y), so large logits neither overflow nor lose precision.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Reduction reduction = Reduction.Mean)
    {
        CheckSameShape("BinaryCrossEntropyWithLogits", input, target);
        return Reduce(input.Softplus() - input * target, reduction);
    }

    /// <summary>
    /// Cross-entropy of class logits ([N, C] or [N, C, d…]) against Int64 class indices ([N] or [N, d…]):
    /// log-softmax and negative log-likelihood in one stable op. Targets equal to <paramref name="ignoreIndex"/>
    /// are skipped.
    /// </summary>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, long ignoreIndex = -100) =>
        CrossEntropyOp.Apply(input, target, reduction, ignoreIndex);

    /// <summary>Negative log-likelihood of log-probabilities ([N, C] or [N, C, d…]) at Int64 class indices.</summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100)
    {
        CrossEntropyOp.CheckShapes(input, target);
        var valid = target.Ne(ignoreIndex);
        var safeTarget = Tensor.Where(valid, target, target.ScalarLike(0));
        var picked = -input.Gather(1, safeTarget.Unsqueeze(1)).Squeeze(1);
        var sampleWeight = valid.To(input.DType);
        if (weight is not null) sampleWeight = sampleWeight * weight.IndexSelect(0, safeTarget.Reshape(-1)).Reshape(safeTarget.Sizes);
        var losses = picked * sampleWeight;
        return reduction switch
        {
            Reduction.None => losses,
            Reduction.Sum => losses.Sum(),
            _ => losses.Sum() / sampleWeight.Sum(),
        };
    }
}
