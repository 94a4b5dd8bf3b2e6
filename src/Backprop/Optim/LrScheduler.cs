using Backprop.IO;

namespace Backprop.Optim;

/// <summary>
/// Sets the learning rate of every parameter group from a schedule: a function of the group's base rate (its rate
/// when the first scheduler was attached) and the number of <see cref="Step"/> calls so far. Construction applies
/// step 0; call <see cref="Step"/> once per epoch or per batch, after the optimizer's step.
/// </summary>
/// <remarks>
/// Schedules are closed forms of the step count, so they compose (<see cref="LinearWarmup"/> then another schedule)
/// and a checkpoint needs only the count. A derived constructor ends with <see cref="Start"/>.
/// </remarks>
public abstract class LrScheduler : ICheckpointable
{
    private readonly double[] _baseLearningRates;
    private readonly double[] _lastLearningRates;

    protected LrScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        _baseLearningRates = optimizer.ParamGroups.Select(g => g.InitialLearningRate ??= g.LearningRate).ToArray();
        _lastLearningRates = (double[])_baseLearningRates.Clone();
    }

    public Optimizer Optimizer { get; }

    /// <summary>How many times <see cref="Step"/> has been called (PyTorch's <c>last_epoch</c>).</summary>
    public int StepCount { get; private set; }

    /// <summary>Each group's base learning rate, which the schedule scales.</summary>
    public IReadOnlyList<double> BaseLearningRates => _baseLearningRates;

    /// <summary>The learning rates this scheduler set last, per group.</summary>
    public IReadOnlyList<double> LastLearningRates => _lastLearningRates;

    /// <summary>Advances the schedule by one and sets the new learning rates.</summary>
    public void Step()
    {
        StepCount++;
        Apply(StepCount);
    }

    /// <summary>Applies step 0; the last line of a derived constructor (the schedule's fields are set by then).</summary>
    protected void Start() => Apply(0);

    /// <summary>The learning rate of group <paramref name="group"/> at step <paramref name="step"/>.</summary>
    protected abstract double ComputeLearningRate(int group, int step);

    /// <summary>The schedule's value, for a scheduler that runs this one as a later phase.</summary>
    internal double LearningRateAt(int group, int step) => ComputeLearningRate(group, step);

    /// <summary>Sets every group's learning rate for <paramref name="step"/> (overridden to set more, e.g. momentum).</summary>
    protected virtual void Apply(int step)
    {
        var groups = Optimizer.ParamGroups;
        if (groups.Count != _baseLearningRates.Length)
            throw new InvalidOperationException(
                $"{GetType().Name}: the optimizer has {groups.Count} parameter groups, but the scheduler was made for {_baseLearningRates.Length}.");
        for (int g = 0; g < groups.Count; g++)
        {
            double lr = ComputeLearningRate(g, step);
            groups[g].LearningRate = lr;
            _lastLearningRates[g] = lr;
        }
    }

    public virtual void SaveState(Checkpoint checkpoint, string prefix)
    {
        checkpoint.Metadata[prefix + "type"] = GetType().Name;
        CheckpointValues.Write(checkpoint, prefix + "step_count", StepCount);
        for (int g = 0; g < _baseLearningRates.Length; g++)
        {
            CheckpointValues.Write(checkpoint, $"{prefix}base_learning_rates.{g}", _baseLearningRates[g]);
            CheckpointValues.Write(checkpoint, $"{prefix}last_learning_rates.{g}", _lastLearningRates[g]);
        }
    }

    /// <summary>Restores the step count and rates; the optimizer's own state restores the rates its groups hold.</summary>
    public virtual void LoadState(Checkpoint checkpoint, string prefix)
    {
        string name = GetType().Name;
        var type = CheckpointValues.Read(checkpoint, prefix + "type", name);
        if (type != name) throw new InvalidOperationException($"{name}.LoadState: the checkpoint at '{prefix}' holds {type} state.");
        long steps = CheckpointValues.ReadLong(checkpoint, prefix + "step_count", name);
        var bases = new double[_baseLearningRates.Length];
        var lasts = new double[_baseLearningRates.Length];
        for (int g = 0; g < bases.Length; g++)
        {
            bases[g] = CheckpointValues.ReadDouble(checkpoint, $"{prefix}base_learning_rates.{g}", name);
            lasts[g] = CheckpointValues.ReadDouble(checkpoint, $"{prefix}last_learning_rates.{g}", name);
        }
        if (checkpoint.Metadata.ContainsKey($"{prefix}base_learning_rates.{bases.Length}"))
            throw new InvalidOperationException($"{name}.LoadState: the checkpoint has more parameter groups than this optimizer ({bases.Length}).");
        StepCount = checked((int)steps);
        bases.CopyTo(_baseLearningRates, 0);
        lasts.CopyTo(_lastLearningRates, 0);
    }
}
