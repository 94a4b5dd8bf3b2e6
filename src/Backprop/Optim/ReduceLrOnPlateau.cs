using Backprop.IO;

namespace Backprop.Optim;

/// <summary>
/// Cuts the learning rate by <see cref="Factor"/> when a metric stops improving: after more than
/// <see cref="Patience"/> steps without a significant improvement, then waits <see cref="Cooldown"/> steps before
/// counting again. Call <see cref="Step"/> with the metric (e.g. the validation loss) once per epoch.
/// </summary>
public sealed class ReduceLrOnPlateau : ICheckpointable
{
    private readonly double[] _minLearningRates;

    /// <param name="threshold">The improvement that counts, relative or absolute by <paramref name="thresholdMode"/>.</param>
    /// <param name="minLearningRate">A floor for every group's rate.</param>
    /// <param name="eps">Changes smaller than this are not made.</param>
    public ReduceLrOnPlateau(Optimizer optimizer, PlateauMode mode = PlateauMode.Min, double factor = 0.1, int patience = 10,
        double threshold = 1e-4, ThresholdMode thresholdMode = ThresholdMode.Relative, int cooldown = 0, double minLearningRate = 0,
        double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (!(factor >= 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), $"ReduceLrOnPlateau: factor must be in [0, 1); got {factor}.");
        if (patience < 0) throw new ArgumentOutOfRangeException(nameof(patience), $"ReduceLrOnPlateau: patience must be non-negative; got {patience}.");
        if (cooldown < 0) throw new ArgumentOutOfRangeException(nameof(cooldown), $"ReduceLrOnPlateau: cooldown must be non-negative; got {cooldown}.");
        Optimizer = optimizer;
        Mode = mode;
        Factor = factor;
        Patience = patience;
        Threshold = threshold;
        ThresholdMode = thresholdMode;
        Cooldown = cooldown;
        Eps = eps;
        _minLearningRates = Enumerable.Repeat(minLearningRate, optimizer.ParamGroups.Count).ToArray();
        Best = WorstValue;
    }

    public Optimizer Optimizer { get; }

    public PlateauMode Mode { get; }

    public double Factor { get; }

    public int Patience { get; }

    public double Threshold { get; }

    public ThresholdMode ThresholdMode { get; }

    public int Cooldown { get; }

    public double Eps { get; }

    /// <summary>The best metric so far (±∞ before the first step).</summary>
    public double Best { get; private set; }

    /// <summary>Steps since the last significant improvement (reset by a cut and during cooldown).</summary>
    public int BadSteps { get; private set; }

    /// <summary>Steps of cooldown left.</summary>
    public int CooldownCounter { get; private set; }

    public int StepCount { get; private set; }

    private double WorstValue => Mode == PlateauMode.Min ? double.PositiveInfinity : double.NegativeInfinity;

    /// <summary>Records <paramref name="metric"/> and cuts the rates if it has plateaued.</summary>
    public void Step(double metric)
    {
        StepCount++;
        if (IsBetter(metric))
        {
            Best = metric;
            BadSteps = 0;
        }
        else BadSteps++;

        if (CooldownCounter > 0)
        {
            CooldownCounter--;
            BadSteps = 0;
        }

        if (BadSteps > Patience)
        {
            var groups = Optimizer.ParamGroups;
            for (int g = 0; g < groups.Count; g++)
            {
                double old = groups[g].LearningRate;
                double reduced = Math.Max(old * Factor, _minLearningRates[g]);
                if (old - reduced > Eps) groups[g].LearningRate = reduced;
            }
            CooldownCounter = Cooldown;
            BadSteps = 0;
        }
    }

    private bool IsBetter(double metric) => (Mode, ThresholdMode) switch
    {
        (PlateauMode.Min, ThresholdMode.Relative) => metric < Best * (1 - Threshold),
        (PlateauMode.Min, ThresholdMode.Absolute) => metric < Best - Threshold,
        (PlateauMode.Max, ThresholdMode.Relative) => metric > Best * (1 + Threshold),
        _ => metric > Best + Threshold,
    };

    public void SaveState(Checkpoint checkpoint, string prefix)
    {
        checkpoint.Metadata[prefix + "type"] = nameof(ReduceLrOnPlateau);
        CheckpointValues.Write(checkpoint, prefix + "best", Best);
        CheckpointValues.Write(checkpoint, prefix + "bad_steps", BadSteps);
        CheckpointValues.Write(checkpoint, prefix + "cooldown_counter", CooldownCounter);
        CheckpointValues.Write(checkpoint, prefix + "step_count", StepCount);
    }

    public void LoadState(Checkpoint checkpoint, string prefix)
    {
        const string Name = nameof(ReduceLrOnPlateau);
        var type = CheckpointValues.Read(checkpoint, prefix + "type", Name);
        if (type != Name) throw new InvalidOperationException($"{Name}.LoadState: the checkpoint at '{prefix}' holds {type} state.");
        double best = CheckpointValues.ReadDouble(checkpoint, prefix + "best", Name);
        long bad = CheckpointValues.ReadLong(checkpoint, prefix + "bad_steps", Name);
        long cooldown = CheckpointValues.ReadLong(checkpoint, prefix + "cooldown_counter", Name);
        long steps = CheckpointValues.ReadLong(checkpoint, prefix + "step_count", Name);
        Best = best;
        BadSteps = checked((int)bad);
        CooldownCounter = checked((int)cooldown);
        StepCount = checked((int)steps);
    }
}
