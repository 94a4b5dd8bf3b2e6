namespace Backprop.Optim;

/// <summary>
/// The 1cycle policy (Smith and Topin), stepped once per batch: the rate rises from max/<c>divFactor</c> to the maximum
/// over the first <c>pctStart</c> of <see cref="TotalSteps"/>, then anneals to max/(divFactor·finalDivFactor); momentum
/// (or Adam's β₁) moves the opposite way between <c>maxMomentum</c> and <c>baseMomentum</c>. With <c>threePhase</c>
/// the rate first returns to its start, then anneals to the minimum. Phases are as in PyTorch.
/// </summary>
public sealed class OneCycleLr : LrScheduler
{
    private readonly Phase[] _phases;
    private readonly double[] _initialRates;
    private readonly double[] _maxRates;
    private readonly double[] _minRates;
    private readonly AnnealStrategy _anneal;
    private readonly bool _cycleMomentum;

    public OneCycleLr(Optimizer optimizer, double maxLearningRate, int totalSteps, double pctStart = 0.3,
        AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool cycleMomentum = true, double baseMomentum = 0.85,
        double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false)
        : this(optimizer, Enumerable.Repeat(maxLearningRate, optimizer.ParamGroups.Count).ToArray(), totalSteps, pctStart,
            annealStrategy, cycleMomentum, baseMomentum, maxMomentum, divFactor, finalDivFactor, threePhase)
    {
    }

    /// <param name="maxLearningRates">The peak rate of each parameter group.</param>
    public OneCycleLr(Optimizer optimizer, IReadOnlyList<double> maxLearningRates, int totalSteps, double pctStart = 0.3,
        AnnealStrategy annealStrategy = AnnealStrategy.Cos, bool cycleMomentum = true, double baseMomentum = 0.85,
        double maxMomentum = 0.95, double divFactor = 25, double finalDivFactor = 1e4, bool threePhase = false)
        : base(optimizer)
    {
        var groups = optimizer.ParamGroups;
        if (maxLearningRates.Count != groups.Count)
            throw new ArgumentException($"OneCycleLr: {maxLearningRates.Count} maximum rates for {groups.Count} parameter groups.", nameof(maxLearningRates));
        if (totalSteps <= 0) throw new ArgumentOutOfRangeException(nameof(totalSteps), $"OneCycleLr: totalSteps must be positive; got {totalSteps}.");
        if (!(pctStart >= 0 && pctStart <= 1)) throw new ArgumentOutOfRangeException(nameof(pctStart), $"OneCycleLr: pctStart must be in [0, 1]; got {pctStart}.");
        if (cycleMomentum && groups.Any(g => g.Options is not IMomentumOptions))
            throw new ArgumentException(
                $"OneCycleLr: cycleMomentum needs an optimizer with momentum or β₁ (Sgd, RmsProp, Adam, AdamW); {optimizer.GetType().Name} has none. " +
                "Pass cycleMomentum: false.", nameof(cycleMomentum));

        TotalSteps = totalSteps;
        _anneal = annealStrategy;
        _cycleMomentum = cycleMomentum;
        _maxRates = maxLearningRates.ToArray();
        _initialRates = _maxRates.Select(m => m / divFactor).ToArray();
        _minRates = _initialRates.Select(i => i / finalDivFactor).ToArray();
        for (int g = 0; g < groups.Count; g++) groups[g].InitialLearningRate = _initialRates[g];

        double warmEnd = pctStart * totalSteps - 1;
        _phases = threePhase
            ?
            [
                new(warmEnd, Rate.Initial, Rate.Max, maxMomentum, baseMomentum),
                new(2 * pctStart * totalSteps - 2, Rate.Max, Rate.Initial, baseMomentum, maxMomentum),
                new(totalSteps - 1, Rate.Initial, Rate.Min, maxMomentum, maxMomentum),
            ]
            :
            [
                new(warmEnd, Rate.Initial, Rate.Max, maxMomentum, baseMomentum),
                new(totalSteps - 1, Rate.Max, Rate.Min, baseMomentum, maxMomentum),
            ];
        double previous = 0;
        foreach (var phase in _phases)
        {
            if (!(phase.End > previous))
                throw new ArgumentException(
                    $"OneCycleLr: with totalSteps {totalSteps} and pctStart {pctStart} a phase would end at step {phase.End}, not after {previous}; " +
                    "use more steps or another pctStart.");
            previous = phase.End;
        }
        Start();
    }

    public int TotalSteps { get; }

    protected override double ComputeLearningRate(int group, int step)
    {
        var (phase, pct) = Locate(step);
        return Anneal(RateOf(phase.StartRate, group), RateOf(phase.EndRate, group), pct);
    }

    protected override void Apply(int step)
    {
        base.Apply(step);
        if (!_cycleMomentum) return;
        var (phase, pct) = Locate(step);
        double momentum = Anneal(phase.StartMomentum, phase.EndMomentum, pct);
        foreach (var group in Optimizer.ParamGroups) ((IMomentumOptions)group.Options).Momentum = momentum;
    }

    private (Phase Phase, double Pct) Locate(int step)
    {
        if (step > TotalSteps)
            throw new InvalidOperationException($"OneCycleLr: stepped {step} times, past the {TotalSteps} total steps it was made for.");
        double start = 0;
        for (int i = 0; i < _phases.Length; i++)
        {
            var phase = _phases[i];
            if (step <= phase.End || i == _phases.Length - 1) return (phase, (step - start) / (phase.End - start));
            start = phase.End;
        }
        throw new InvalidOperationException("OneCycleLr has no phases.");
    }

    private double Anneal(double start, double end, double pct) => _anneal == AnnealStrategy.Cos
        ? end + (start - end) / 2 * (Math.Cos(Math.PI * pct) + 1)
        : (end - start) * pct + start;

    private double RateOf(Rate rate, int group) => rate switch
    {
        Rate.Initial => _initialRates[group],
        Rate.Max => _maxRates[group],
        _ => _minRates[group],
    };

    private enum Rate { Initial, Max, Min }

    private readonly record struct Phase(double End, Rate StartRate, Rate EndRate, double StartMomentum, double EndMomentum);
}
