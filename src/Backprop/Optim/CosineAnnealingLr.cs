namespace Backprop.Optim;

/// <summary>
/// Cosine annealing from the base rate to <see cref="EtaMin"/> over <see cref="TMax"/> steps (SGDR without restarts):
/// η_min + (γ₀ − η_min)·(1 + cos(πt / T_max))/2. Past T_max the cosine continues, rising again.
/// </summary>
public sealed class CosineAnnealingLr : LrScheduler
{
    public CosineAnnealingLr(Optimizer optimizer, int tMax, double etaMin = 0) : base(optimizer)
    {
        if (tMax <= 0) throw new ArgumentOutOfRangeException(nameof(tMax), $"CosineAnnealingLr: tMax must be positive; got {tMax}.");
        TMax = tMax;
        EtaMin = etaMin;
        Start();
    }

    /// <summary>Steps from the base rate down to <see cref="EtaMin"/>.</summary>
    public int TMax { get; }

    public double EtaMin { get; }

    protected override double ComputeLearningRate(int group, int step) =>
        EtaMin + (BaseLearningRates[group] - EtaMin) * (1 + Math.Cos(Math.PI * step / TMax)) / 2;
}
