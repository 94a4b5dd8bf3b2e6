namespace Backprop.Diagnostics;

/// <summary>One layer (a module with parameters, or a ReLU) over the recorded steps.</summary>
/// <param name="Name">The module's path in the model, e.g. <c>0</c> or <c>encoder.fc1</c>.</param>
/// <param name="Type">The module's class, e.g. <c>Linear</c>.</param>
/// <param name="Norms">The norm of the layer's whole gradient (all its parameters) at each step; NaN where it got none.</param>
/// <param name="OutputGradientRms">
/// The root mean square of ∂L/∂(layer output), the error δ that backward carries into the layer, at each step; NaN where
/// it was not seen (layers that are not a tensor-to-tensor module). Unlike the weight gradient it does not vanish when
/// the layer's inputs stop varying, so it is what the vanishing flag compares.
/// </param>
/// <param name="Last">The layer's gradient statistics at the latest step that had one (null for a ReLU).</param>
/// <param name="DeadFractions">For a ReLU: per step, the fraction of units that output zero for the whole batch.</param>
/// <param name="DeadUnitFraction">For a ReLU: the fraction of units silent in every one of the recent steps (the dead ones).</param>
public sealed record LayerGradientFlow(string Name, string Type, IReadOnlyList<string> ParameterNames, IReadOnlyList<double> Norms,
    IReadOnlyList<double> OutputGradientRms, GradientStatistics? Last, IReadOnlyList<double?> DeadFractions, double? DeadUnitFraction, IReadOnlyList<ParameterGradientFlow> Parameters)
{
    public bool HasParameters => ParameterNames.Count > 0;

    /// <summary>The median of <see cref="Norms"/> over the steps that had a gradient (NaN if none).</summary>
    public double MedianNorm => GradientFlowReport.Median(Norms.Where(n => !double.IsNaN(n)));

    /// <summary>The median of <see cref="OutputGradientRms"/> over the steps that saw it (NaN if none).</summary>
    public double MedianOutputGradientRms => GradientFlowReport.Median(OutputGradientRms.Where(n => !double.IsNaN(n)));

    /// <summary>The norm at the latest step that had a gradient (NaN if none).</summary>
    public double LastNorm => Norms.LastOrDefault(n => !double.IsNaN(n), double.NaN);

    /// <summary>"Type (name)" as shown in reports, e.g. <c>0 (Linear)</c>.</summary>
    public string Label => $"{Name} ({Type})";
}
