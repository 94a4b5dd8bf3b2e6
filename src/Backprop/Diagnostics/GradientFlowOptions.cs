namespace Backprop.Diagnostics;

/// <summary>Thresholds of the <see cref="GradientFlowMonitor"/>'s flags.</summary>
public sealed record GradientFlowOptions
{
    /// <summary>
    /// Vanishing: the first layer's gradient norm divided by the last layer's (median over the recorded steps) is below
    /// this. Signals stop reaching the early layers, which then barely learn.
    /// </summary>
    public double VanishingRatio { get; init; } = 1e-3;

    /// <summary>
    /// Vanishing through time: for a recurrent layer, ‖∂L/∂h_1‖ divided by ‖∂L/∂h_T‖ (each the median over the last quarter
    /// of the backward passes) is below this. The error at the end of the sequence then barely reaches its start, so the
    /// layer cannot learn dependencies spanning the sequence.
    /// </summary>
    public double VanishingThroughTimeRatio { get; init; } = 1e-3;

    /// <summary>Exploding: the total gradient norm of some step is above this.</summary>
    public double ExplodingNorm { get; init; } = 1e3;

    /// <summary>
    /// Exploding, too: the total norm grew by at least this factor across training (the median over the last quarter
    /// of the steps against the median over the first quarter; needs <see cref="MinimumStepsForGrowth"/> steps).
    /// </summary>
    public double GrowthFactor { get; init; } = 100;

    public int MinimumStepsForGrowth { get; init; } = 8;

    /// <summary>Dead units: at least this fraction of a ReLU layer's units output zero for every sample of the recent steps.</summary>
    public double DeadUnitFraction { get; init; } = 0.5;

    /// <summary>How many recent steps a ReLU unit must stay silent in to count as dead.</summary>
    public int DeadWindow { get; init; } = 10;
}
