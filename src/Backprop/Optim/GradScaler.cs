using Backprop.IO;

namespace Backprop.Optim;

/// <summary>
/// Dynamic loss scaling for mixed-precision training (torch.amp.GradScaler). Float16 cannot hold gradients below
/// about 6·10⁻⁸ (they flush to zero) and overflows above 65504; multiplying the loss by a large scale before
/// backward lifts small gradients into range, and dividing the gradients by it before the optimizer step restores
/// them. The scale adapts: a step whose gradients hold ±∞ or NaN is skipped and the scale backed off; after
/// <see cref="GrowthInterval"/> clean steps in a row it grows.
/// </summary>
/// <example><code>
/// var scaler = new GradScaler();
/// optimizer.ZeroGrad();
/// Tensor loss;
/// using (Autocast.Enable(DType.Float16)) loss = lossFn(model.Forward(x), y);
/// scaler.ScaleLoss(loss).Backward();
/// scaler.Unscale(optimizer);                                   // only needed before gradient clipping
/// GradientClipping.ClipGradNorm(model.Parameters(), 1.0);
/// scaler.Step(optimizer);                                      // skipped when the gradients are not finite
/// scaler.Update();
/// </code></example>
/// <remarks>
/// BFloat16 has float32's range, so it rarely needs a scaler; with <c>enabled: false</c> every call passes through
/// (ScaleLoss returns the loss, Step steps), so one training loop serves both. <see cref="Step"/> returns whether it
/// stepped, so a learning-rate schedule can skip along with it (pytorch#55585).
/// </remarks>
public sealed class GradScaler : ICheckpointable
{
    private const string Owner = "GradScaler";

    // The optimizers unscaled since the last Update, and whether each found a non-finite gradient.
    private readonly Dictionary<Optimizer, bool> _unscaled = new(ReferenceEqualityComparer.Instance);

    /// <param name="initScale">The first scale (PyTorch's default, 2¹⁶).</param>
    /// <param name="growthFactor">Multiplies the scale after <paramref name="growthInterval"/> clean steps in a row.</param>
    /// <param name="backoffFactor">Multiplies the scale after a step with non-finite gradients.</param>
    /// <param name="growthInterval">Clean steps in a row before the scale grows.</param>
    /// <param name="enabled">False makes every call a pass-through (for float32 or bfloat16 runs sharing the loop).</param>
    public GradScaler(double initScale = 65536.0, double growthFactor = 2.0, double backoffFactor = 0.5, int growthInterval = 2000, bool enabled = true)
    {
        if (!(initScale > 0) || double.IsInfinity(initScale))
            throw new ArgumentOutOfRangeException(nameof(initScale), $"GradScaler: initScale must be positive and finite; got {initScale}.");
        if (!(growthFactor > 1)) throw new ArgumentOutOfRangeException(nameof(growthFactor), $"GradScaler: growthFactor must exceed 1; got {growthFactor}.");
        if (!(backoffFactor > 0 && backoffFactor < 1))
            throw new ArgumentOutOfRangeException(nameof(backoffFactor), $"GradScaler: backoffFactor must be in (0, 1); got {backoffFactor}.");
        if (growthInterval < 1) throw new ArgumentOutOfRangeException(nameof(growthInterval), $"GradScaler: growthInterval must be at least 1; got {growthInterval}.");
        Scale = initScale;
        GrowthFactor = growthFactor;
        BackoffFactor = backoffFactor;
        GrowthInterval = growthInterval;
        IsEnabled = enabled;
    }

    /// <summary>The factor the loss is multiplied by now.</summary>
    public double Scale { get; private set; }

    public double GrowthFactor { get; private set; }

    public double BackoffFactor { get; private set; }

    public int GrowthInterval { get; private set; }

    public bool IsEnabled { get; }

    /// <summary>Clean steps in a row since the scale last changed.</summary>
    public int GrowthTracker { get; private set; }

    /// <summary>Steps skipped so far because their gradients were not finite.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>The loss multiplied by <see cref="Scale"/> (on the graph): call <c>Backward</c> on this.</summary>
    public Tensor ScaleLoss(Tensor loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return IsEnabled ? loss * Scale : loss;
    }

    /// <summary>
    /// Divides the gradients of <paramref name="optimizer"/>'s parameters by the scale, in place, and notes whether any
    /// is ±∞ or NaN. Call it once per optimizer per step, before clipping or inspecting gradients; <see cref="Step"/>
    /// calls it when you have not.
    /// </summary>
    public void Unscale(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!IsEnabled) return;
        if (_unscaled.ContainsKey(optimizer))
            throw new InvalidOperationException("GradScaler.Unscale: already called for this optimizer since the last Update().");
        double inverse = 1.0 / Scale;
        bool nonFinite = false;
        using (Autograd.NoGrad())
        {
            foreach (var group in optimizer.ParamGroups)
                foreach (var p in group.Parameters)
                {
                    if (p.Grad is not { } grad) continue;
                    grad.MulInPlace(inverse);
                    // ±∞·0 and NaN·0 are NaN, so the sum of the zeroed gradient is NaN exactly when one element is not finite.
                    if (!nonFinite && double.IsNaN((grad * 0.0).Sum().ToArray<double>()[0])) nonFinite = true;
                }
        }
        _unscaled[optimizer] = nonFinite;
    }

    /// <summary>
    /// Unscales the gradients (unless <see cref="Unscale"/> did already) and steps <paramref name="optimizer"/>, unless
    /// a gradient is not finite. Returns whether it stepped.
    /// </summary>
    public bool Step(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!IsEnabled)
        {
            optimizer.Step();
            return true;
        }
        if (!_unscaled.ContainsKey(optimizer)) Unscale(optimizer);
        if (_unscaled[optimizer])
        {
            SkippedSteps++;
            return false;
        }
        optimizer.Step();
        return true;
    }

    /// <summary>
    /// Adapts the scale after a step: backs off if any optimizer unscaled since the last update found a non-finite
    /// gradient, grows after <see cref="GrowthInterval"/> clean steps in a row. Call once per iteration, after the steps.
    /// </summary>
    public void Update()
    {
        if (!IsEnabled) return;
        if (_unscaled.Count == 0)
            throw new InvalidOperationException("GradScaler.Update: no Unscale or Step since the last update, so there is nothing to adapt the scale to.");
        bool nonFinite = _unscaled.Values.Any(found => found);
        _unscaled.Clear();
        if (nonFinite)
        {
            Scale *= BackoffFactor;
            GrowthTracker = 0;
            return;
        }
        if (++GrowthTracker < GrowthInterval) return;
        // A scale that would overflow float32 stays where it is (as PyTorch's _amp_update_scale_ does).
        if (double.IsFinite((float)(Scale * GrowthFactor))) Scale *= GrowthFactor;
        GrowthTracker = 0;
    }

    public void SaveState(Checkpoint checkpoint, string prefix)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        CheckpointValues.Write(checkpoint, prefix + "scale", Scale);
        CheckpointValues.Write(checkpoint, prefix + "growth_factor", GrowthFactor);
        CheckpointValues.Write(checkpoint, prefix + "backoff_factor", BackoffFactor);
        CheckpointValues.Write(checkpoint, prefix + "growth_interval", GrowthInterval);
        CheckpointValues.Write(checkpoint, prefix + "growth_tracker", GrowthTracker);
        CheckpointValues.Write(checkpoint, prefix + "skipped_steps", SkippedSteps);
    }

    public void LoadState(Checkpoint checkpoint, string prefix)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        double scale = CheckpointValues.ReadDouble(checkpoint, prefix + "scale", Owner);
        double growth = CheckpointValues.ReadDouble(checkpoint, prefix + "growth_factor", Owner);
        double backoff = CheckpointValues.ReadDouble(checkpoint, prefix + "backoff_factor", Owner);
        long interval = CheckpointValues.ReadLong(checkpoint, prefix + "growth_interval", Owner);
        long tracker = CheckpointValues.ReadLong(checkpoint, prefix + "growth_tracker", Owner);
        long skipped = CheckpointValues.ReadLong(checkpoint, prefix + "skipped_steps", Owner);
        if (!(scale > 0) || interval < 1 || tracker < 0 || tracker >= interval)
            throw new InvalidOperationException($"GradScaler.LoadState: the state at '{prefix}' is inconsistent (scale {scale}, growth tracker {tracker} of {interval}).");
        (Scale, GrowthFactor, BackoffFactor, GrowthInterval, GrowthTracker, SkippedSteps) = (scale, growth, backoff, (int)interval, (int)tracker, skipped);
        _unscaled.Clear();
    }
}
