using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// Batch normalisation per channel (dim 1), the part <see cref="BatchNorm1d"/> and <see cref="BatchNorm2d"/> share (see
/// <see cref="Functional.BatchNorm"/>). In training mode each batch is normalised with its own mean and biased
/// variance, and the running statistics move towards them; in evaluation mode the running statistics are used. The
/// state dict matches PyTorch's: <c>weight</c>, <c>bias</c>, <c>running_mean</c>, <c>running_var</c>,
/// <c>num_batches_tracked</c>.
/// </summary>
public abstract class BatchNormBase : Module<Tensor, Tensor>
{
    /// <param name="numFeatures">The channel count C of the [N, C, …] inputs.</param>
    /// <param name="eps">Added to the variance before its square root.</param>
    /// <param name="momentum">
    /// The weight of each new batch in the running statistics: running = (1 − momentum)·running + momentum·batch; null for
    /// the cumulative average over all batches so far (momentum 1/<see cref="NumBatchesTracked"/>).
    /// </param>
    /// <param name="affine">Whether to learn a per-channel scale (<see cref="Weight"/>, starting at 1) and shift (<see cref="Bias"/>, at 0).</param>
    /// <param name="trackRunningStats">
    /// Whether to keep running statistics; without them, evaluation mode normalises with the batch's statistics too.
    /// </param>
    protected BatchNormBase(int numFeatures, double eps, double? momentum, bool affine, bool trackRunningStats, DType dtype,
        Device? device = null)
    {
        if (numFeatures <= 0) throw new ArgumentOutOfRangeException(nameof(numFeatures), $"{TypeName}: numFeatures must be positive; got {numFeatures}.");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), $"{TypeName}: eps must be non-negative; got {eps}.");
        if (momentum is { } m && !(m >= 0 && m <= 1))
            throw new ArgumentOutOfRangeException(nameof(momentum), $"{TypeName}: momentum must be in [0, 1] (or null for a cumulative average); got {m}.");
        NumFeatures = numFeatures;
        Eps = eps;
        Momentum = momentum;
        TrackRunningStats = trackRunningStats;
        if (affine)
        {
            Weight = new Parameter(Tensor.Ones([numFeatures], dtype, device));
            Bias = new Parameter(Tensor.Zeros([numFeatures], dtype, device));
        }
        if (trackRunningStats)
        {
            RegisterBuffer("running_mean", Tensor.Zeros([numFeatures], dtype, device));
            RegisterBuffer("running_var", Tensor.Ones([numFeatures], dtype, device));
            RegisterBuffer("num_batches_tracked", Tensor.Scalar(0, DType.Int64, device));
        }
    }

    public int NumFeatures { get; }

    public double Eps { get; }

    /// <summary>The weight of each new batch in the running statistics, or null for a cumulative average.</summary>
    public double? Momentum { get; }

    public bool TrackRunningStats { get; }

    /// <summary>[<see cref="NumFeatures"/>] scale γ, or null when not affine.</summary>
    public Parameter? Weight { get; set; }

    /// <summary>[<see cref="NumFeatures"/>] shift β, or null when not affine.</summary>
    public Parameter? Bias { get; set; }

    /// <summary>[<see cref="NumFeatures"/>], the buffer <c>running_mean</c>; null without running statistics.</summary>
    public Tensor? RunningMean => GetBuffer("running_mean");

    /// <summary>[<see cref="NumFeatures"/>], the buffer <c>running_var</c> (unbiased); null without running statistics.</summary>
    public Tensor? RunningVar => GetBuffer("running_var");

    /// <summary>The Int64 scalar buffer <c>num_batches_tracked</c>: training batches seen; null without running statistics.</summary>
    public Tensor? NumBatchesTracked => GetBuffer("num_batches_tracked");

    /// <summary>Throws a <see cref="ShapeMismatchException"/> unless <paramref name="input"/> has a rank this layer takes.</summary>
    protected abstract void CheckInput(Tensor input);

    protected override Tensor ForwardCore(Tensor input)
    {
        CheckInput(input);
        if (input.Sizes[1] != NumFeatures)
            throw new ShapeMismatchException(TypeName, $"expected {NumFeatures} channels in dim 1; got input {input.Shape}");
        var runningMean = RunningMean;
        var runningVar = RunningVar;
        double momentum = 0;
        // A checkpointed region being recomputed already updated the statistics in its forward pass (pytorch#96136).
        if (IsTraining && GradientCheckpoint.IsRecomputing) runningMean = runningVar = null;
        if (IsTraining && runningMean is not null)
        {
            var tracked = NumBatchesTracked!;
            using (Autograd.NoGrad()) tracked.AddInPlace(1);
            momentum = Momentum ?? 1.0 / tracked.Item<long>();
        }
        // Evaluation without running statistics normalises with the batch's own, as in training.
        bool useBatchStatistics = IsTraining || runningMean is null;
        return Functional.BatchNorm(input, runningMean, runningVar, Weight, Bias, useBatchStatistics, momentum, Eps);
    }

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"{NumFeatures}, eps: {Eps}, momentum: {(Momentum is { } m ? m.ToString(CultureInfo.InvariantCulture) : "None")}, affine: {Weight is not null}, trackRunningStats: {TrackRunningStats}");
}
