using System.Runtime.CompilerServices;
using Backprop.Ops;

namespace Backprop.Nn;

/// <summary>
/// Layers and losses as plain functions of tensors, for code that holds its own parameters.
/// <c>using static Backprop.Nn.Functional;</c> brings them into scope.
/// </summary>
/// <remarks>
/// The losses record their caller's file and line (caller-info attributes; pass nothing for them), so a NaN or an
/// in-place error found in backward names the line of the training loop that computed the loss.
/// </remarks>
public static partial class Functional
{
    /// <summary>x·Wᵀ + b for x of shape [..., in], W of shape [out, in] and b of shape [out].</summary>
    /// <remarks>Inside <see cref="Autocast"/> it runs in the low-precision dtype (the casts are on the graph: float32 weights get float32 gradients).</remarks>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null) => Autocast.IsEnabled
        ? LinearOp.Apply(Autocast.ToLowPrecision(x), Autocast.ToLowPrecision(weight), Autocast.ToLowPrecisionOrNull(bias))
        : LinearOp.Apply(x, weight, bias);

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
    public static Tensor MseLoss(Tensor input, Tensor target, Reduction reduction = Reduction.Mean, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        using var site = CallSite.Enter(callerFile, callerLine);
        (input, target) = (Autocast.ToFloat32(input), Autocast.ToFloat32(target));
        CheckSameShape("MseLoss", input, target);
        return Reduce((input - target).Square(), reduction);
    }

    /// <summary>Binary cross-entropy of probabilities (e.g. after a sigmoid), with logs clamped at −100.</summary>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        using var site = CallSite.Enter(callerFile, callerLine);
        (input, target) = (Autocast.ToFloat32(input), Autocast.ToFloat32(target));
        if (weight is not null && weight.Shape != input.Shape) weight = weight.ExpandAs(input);
        return Reduce(BinaryCrossEntropyOp.Apply(input, target, weight), reduction);
    }

    /// <summary>
    /// Binary cross-entropy of logits: σ and the log in one stable expression, (1 − y)·x + softplus(−x) (with
    /// softplus(−x) = −log σ(x)), so large logits neither overflow nor lose precision.
    /// </summary>
    /// <param name="weight">Rescales each element's loss (broadcast to the input).</param>
    /// <param name="posWeight">
    /// Weight of the positive term, per class (broadcast along the last dim): the loss is
    /// −w[p_c·y·log σ(x) + (1 − y)·log(1 − σ(x))]. Above 1 raises recall, below 1 precision.
    /// </param>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null,
        Reduction reduction = Reduction.Mean, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        using var site = CallSite.Enter(callerFile, callerLine);
        (input, target) = (Autocast.ToFloat32(input), Autocast.ToFloat32(target));
        CheckSameShape("BinaryCrossEntropyWithLogits", input, target);
        // log(1 − σ(x)) = −x − softplus(−x), so −[p·y·log σ + (1 − y)·log(1 − σ)] = (1 − y)·x + (1 + (p − 1)·y)·softplus(−x).
        var loss = posWeight is null
            ? input.Softplus() - input * target
            : (1.0 - target) * input + (1.0 + (posWeight - 1.0) * target) * (-input).Softplus();
        if (weight is not null) loss *= weight;
        return Reduce(loss, reduction);
    }

    /// <summary>
    /// Cross-entropy of class logits ([N, C] or [N, C, d…]) against Int64 class indices ([N] or [N, d…]): log-softmax
    /// and negative log-likelihood in one stable op. Targets equal to <paramref name="ignoreIndex"/> are skipped.
    /// </summary>
    /// <param name="weight">Per-class weights [C]; with them the mean divides by the summed weight of the targets.</param>
    /// <param name="labelSmoothing">
    /// ε in [0, 1]: the target becomes (1 − ε)·one-hot + ε/C uniform, i.e. the loss mixes (1 − ε)·NLL with
    /// ε·(−Σ_c w_c log p_c)/C.
    /// </param>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean,
        long ignoreIndex = -100, double labelSmoothing = 0, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        using var site = CallSite.Enter(callerFile, callerLine);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), $"CrossEntropy: labelSmoothing must be in [0, 1]; got {labelSmoothing}.");
        input = Autocast.ToFloat32(input);
        if (weight is null && labelSmoothing == 0) return CrossEntropyOp.Apply(input, target, reduction, ignoreIndex);
        CrossEntropyOp.CheckShapes(input, target);
        return WeightedNll("CrossEntropy", input.LogSoftmax(1), target, weight, reduction, ignoreIndex, labelSmoothing);
    }

    /// <summary>Negative log-likelihood of log-probabilities ([N, C] or [N, C, d…]) at Int64 class indices.</summary>
    /// <param name="weight">Per-class weights [C]; with them the mean divides by the summed weight of the targets.</param>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean, long ignoreIndex = -100,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        using var site = CallSite.Enter(callerFile, callerLine);
        return WeightedNll("NllLoss", Autocast.ToFloat32(input), target, weight, reduction, ignoreIndex, labelSmoothing: 0);
    }
}
