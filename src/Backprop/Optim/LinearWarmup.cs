using Backprop.IO;

namespace Backprop.Optim;

/// <summary>
/// Linear warm-up: the rate rises from <see cref="StartFactor"/>·γ₀ at step 0 to γ₀ at step <see cref="WarmupSteps"/>,
/// then follows <see cref="Then"/> from its step 0 (or stays at γ₀): warm-up and cosine decay is
/// <c>new LinearWarmup(opt, 500, then: new CosineAnnealingLr(opt, tMax: 9500))</c>. Step only the warm-up; it drives the
/// schedule it wraps.
/// </summary>
public sealed class LinearWarmup : LrScheduler
{
    /// <param name="startFactor">The fraction of the base rate at step 0, in [0, 1].</param>
    /// <param name="then">The schedule after warm-up, made on the same optimizer; it is not stepped itself.</param>
    public LinearWarmup(Optimizer optimizer, int warmupSteps, double startFactor = 0, LrScheduler? then = null) : base(optimizer)
    {
        if (warmupSteps <= 0) throw new ArgumentOutOfRangeException(nameof(warmupSteps), $"LinearWarmup: warmupSteps must be positive; got {warmupSteps}.");
        if (!(startFactor >= 0 && startFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(startFactor), $"LinearWarmup: startFactor must be in [0, 1]; got {startFactor}.");
        if (then is not null && !ReferenceEquals(then.Optimizer, optimizer))
            throw new ArgumentException("LinearWarmup: the schedule to follow must be made on the same optimizer.", nameof(then));
        WarmupSteps = warmupSteps;
        StartFactor = startFactor;
        Then = then;
        Start();
    }

    public int WarmupSteps { get; }

    public double StartFactor { get; }

    /// <summary>The schedule after warm-up, or null to hold the base rate.</summary>
    public LrScheduler? Then { get; }

    /// <summary>Saves this schedule and the one it hands over to (under <c>then.</c>).</summary>
    public override void SaveState(Checkpoint checkpoint, string prefix)
    {
        base.SaveState(checkpoint, prefix);
        Then?.SaveState(checkpoint, prefix + "then.");
    }

    public override void LoadState(Checkpoint checkpoint, string prefix)
    {
        base.LoadState(checkpoint, prefix);
        Then?.LoadState(checkpoint, prefix + "then.");
    }

    protected override double ComputeLearningRate(int group, int step)
    {
        if (step < WarmupSteps) return BaseLearningRates[group] * (StartFactor + (1 - StartFactor) * step / WarmupSteps);
        return Then?.LearningRateAt(group, step - WarmupSteps) ?? BaseLearningRates[group];
    }
}
