namespace Backprop.Diagnostics;

/// <summary>
/// Gradients through time of one recurrent layer: for each backward pass, ‖∂L/∂h_t‖ at every time step t of the layer's
/// last layer (forward direction), where h_t is the hidden state the next step and the output are computed from, so its
/// gradient is the total derivative, through the loss at t and through all later steps.
/// </summary>
/// <param name="Name">The module's path in the model (or the name given to <see cref="GradientFlowMonitor.ObserveSteps"/>).</param>
/// <param name="Type">The module's class, e.g. <c>Lstm</c>.</param>
/// <param name="Passes">Per backward pass, the L2 norm of ∂L/∂h_t (over the batch and the features) for t = 0, 1, …
/// in the order the forward pass produced the states since the previous backward; NaN where a step got no gradient.</param>
/// <param name="RecentPasses">How many of the last passes <see cref="Norms"/> summarises.</param>
public sealed record TimeStepGradientFlow(string Name, string Type, IReadOnlyList<IReadOnlyList<double>> Passes, int RecentPasses)
{
    /// <summary>
    /// Per time step, the median of ‖∂L/∂h_t‖ over the last <see cref="RecentPasses"/> backward passes that reached it:
    /// what the network as trained so far passes back through time.
    /// </summary>
    public IReadOnlyList<double> Norms { get; } = RecentMedians(Passes, RecentPasses);

    /// <summary>‖∂L/∂h_1‖ over ‖∂L/∂h_T‖ (from <see cref="Norms"/>): how much of the error at the end of the sequence reaches its start.</summary>
    public double FirstToLastRatio => Norms.Count == 0 ? double.NaN : Norms[0] / Norms[^1];

    /// <summary>
    /// How many steps back from the last one the gradient stays at least <paramref name="ratio"/> × ‖∂L/∂h_T‖: the span over
    /// which the loss at the end still teaches the network (the whole length when it never falls below).
    /// </summary>
    public int Horizon(double ratio)
    {
        if (Norms.Count == 0) return 0;
        double floor = ratio * Norms[^1];
        int steps = 0;
        for (int t = Norms.Count - 1; t >= 0 && Norms[t] >= floor; t--) steps++;
        return steps;
    }

    /// <summary>"name (Type)", as shown in reports.</summary>
    public string Label => $"{Name} ({Type})";

    private static double[] RecentMedians(IReadOnlyList<IReadOnlyList<double>> passes, int recent)
    {
        var window = passes.Skip(Math.Max(0, passes.Count - recent)).ToList();
        int length = window.Count == 0 ? 0 : window.Max(p => p.Count);
        return Enumerable.Range(0, length)
            .Select(t => GradientFlowReport.Median(window.Where(p => t < p.Count && !double.IsNaN(p[t])).Select(p => p[t])))
            .ToArray();
    }
}
