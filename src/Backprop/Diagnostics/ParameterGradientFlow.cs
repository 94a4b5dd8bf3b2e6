namespace Backprop.Diagnostics;

/// <summary>One parameter's gradient at every recorded step (null where it got none).</summary>
/// <param name="AccumulatedSteps">Backward passes whose gradient was added to a non-zero <c>Grad</c> left by an earlier pass.</param>
public sealed record ParameterGradientFlow(string Name, IReadOnlyList<GradientStatistics?> Steps, int AccumulatedSteps)
{
    /// <summary>The latest recorded statistics, or null if the parameter never got a gradient.</summary>
    public GradientStatistics? Last => Steps.LastOrDefault(s => s is not null);
}
