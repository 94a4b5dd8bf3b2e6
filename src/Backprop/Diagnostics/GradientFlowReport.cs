using System.Globalization;
using System.Text;

namespace Backprop.Diagnostics;

/// <summary>
/// What a <see cref="GradientFlowMonitor"/> saw: per-layer gradient norms over the steps, the latest statistics, and
/// flags for the failures the tutorials warn about, each with a sentence saying what was measured.
/// </summary>
public sealed class GradientFlowReport
{
    internal GradientFlowReport(int steps, IReadOnlyList<LayerGradientFlow> layers, GradientFlowOptions options, IReadOnlyList<TimeStepGradientFlow> throughTime)
    {
        Steps = steps;
        Layers = layers;
        Options = options;
        ThroughTime = throughTime;
        var weighted = layers.Where(l => l.HasParameters).ToList();
        TotalNorms = Enumerable.Range(0, steps).Select(s =>
        {
            double squares = 0;
            bool any = false;
            foreach (var l in weighted)
                if (!double.IsNaN(l.Norms[s]))
                {
                    squares += l.Norms[s] * l.Norms[s];
                    any = true;
                }
            return any ? Math.Sqrt(squares) : double.NaN;
        }).ToArray();

        var findings = new List<string>();
        // Compare the error δ arriving at the first and last layer (root mean square, so widths do not matter); fall back
        // to the parameter gradients' norms for models whose layers are not tensor-to-tensor modules.
        var withDelta = weighted.Where(l => l.OutputGradientRms.Any(v => !double.IsNaN(v))).ToList();
        bool useDelta = withDelta.Count >= 2;
        var compared = useDelta ? withDelta : weighted;
        if (compared.Count >= 2)
        {
            var first = compared[0];
            var last = compared[^1];
            IReadOnlyList<double> Series(LayerGradientFlow l) => useDelta ? l.OutputGradientRms : l.Norms;
            var ratios = Enumerable.Range(0, steps).Select(s => Series(first)[s] / Series(last)[s]).Where(r => !double.IsNaN(r)).ToList();
            if (ratios.Count > 0)
            {
                FirstToLastRatio = Median(ratios);
                Vanishing = FirstToLastRatio < options.VanishingRatio;
                string what = useDelta ? "the gradient reaching the output of" : "the gradient norm of";
                if (Vanishing)
                    findings.Add($"vanishing: {what} the first layer ({first.Label}) is {Format(FirstToLastRatio.Value)} × that of the last ({last.Label}), " +
                                 $"median over {ratios.Count} steps, below the threshold {Format(options.VanishingRatio)}: the early layers barely learn. " +
                                 "Try ReLU-family activations, He/Xavier initialisation, normalisation layers or residual connections.");
            }
        }

        foreach (var sequence in throughTime.Where(q => q.Norms.Count >= 2))
        {
            double ratio = sequence.FirstToLastRatio;
            if (!(ratio < options.VanishingThroughTimeRatio)) continue;
            VanishingThroughTime = true;
            int recent = Math.Min(sequence.RecentPasses, sequence.Passes.Count);
            findings.Add($"vanishing through time: in {sequence.Label}, ‖∂L/∂h_1‖ is {Format(ratio)} × ‖∂L/∂h_{sequence.Norms.Count}‖ " +
                         $"(median over the last {recent} of {sequence.Passes.Count} backward passes), below the threshold " +
                         $"{Format(options.VanishingThroughTimeRatio)}: the gradient stays above that fraction for only the last " +
                         $"{sequence.Horizon(options.VanishingThroughTimeRatio)} of {sequence.Norms.Count} steps, so longer dependencies are not learned. " +
                         "Gated layers (LSTM, GRU) keep it alive; so can a shorter sequence or truncation window.");
        }

        var finite = TotalNorms.Where(double.IsFinite).ToList();
        MaxNorm = finite.Count > 0 ? finite.Max() : double.NaN;
        long nonFinite = layers.SelectMany(l => l.Parameters).SelectMany(p => p.Steps).Sum(s => s?.NonFinite ?? 0);
        NonFinite = nonFinite > 0;
        int quarter = steps / 4;
        if (steps >= options.MinimumStepsForGrowth && quarter > 0)
        {
            double early = Median(TotalNorms.Take(quarter).Where(double.IsFinite));
            double late = Median(TotalNorms.Skip(steps - quarter).Select(n => double.IsNaN(n) ? double.PositiveInfinity : n));
            GrowthFactor = late / early;
        }
        bool tooLarge = MaxNorm > options.ExplodingNorm;
        bool growing = GrowthFactor >= options.GrowthFactor;
        Exploding = tooLarge || growing || NonFinite;
        if (NonFinite)
        {
            int firstBad = Enumerable.Range(0, steps).First(s => layers.SelectMany(l => l.Parameters).Any(p => p.Steps[s]?.NonFinite > 0));
            findings.Add($"non-finite: {nonFinite} gradient element(s) were NaN or ±∞, first at step {firstBad + 1}. " +
                         "Autograd.DetectNonFinite() stops at the op that produces the first one.");
        }
        if (tooLarge)
            findings.Add($"exploding: the total gradient norm reached {Format(MaxNorm)}, above the threshold {Format(options.ExplodingNorm)}. " +
                         "Lower the learning rate, clip gradients (GradientClipping.ClipGradNorm), or normalise the inputs and targets.");
        if (growing)
            findings.Add($"exploding: the total gradient norm grew {Format(GrowthFactor!.Value)}× from the first quarter of the steps to the last " +
                         $"(threshold {Format(options.GrowthFactor)}×): training is diverging.");

        foreach (var layer in layers.Where(l => l.DeadUnitFraction >= options.DeadUnitFraction))
            findings.Add($"dead units: {Percent(layer.DeadUnitFraction!.Value)} of the units of {layer.Label} output zero for every sample of the last " +
                         $"{Math.Min(options.DeadWindow, steps)} steps (threshold {Percent(options.DeadUnitFraction)}), so no gradient reaches their weights. " +
                         "Try a lower learning rate, LeakyReLU/GELU, or a different initialisation or bias.");
        DeadUnits = layers.Any(l => l.DeadUnitFraction >= options.DeadUnitFraction);

        int accumulated = layers.SelectMany(l => l.Parameters).Max(p => (int?)p.AccumulatedSteps) ?? 0;
        Accumulating = accumulated > 0;
        if (Accumulating)
            findings.Add($"accumulating: in {accumulated} backward pass(es) a parameter's gradient was added to a non-zero one left by the previous pass. " +
                         "Unless you accumulate gradients on purpose, call optimizer.ZeroGrad() (or model.ZeroGrad()) before each backward.");
        Findings = findings;
    }

    /// <summary>Backward passes recorded.</summary>
    public int Steps { get; }

    /// <summary>Layers in the model's order: modules with parameters, and ReLU modules.</summary>
    public IReadOnlyList<LayerGradientFlow> Layers { get; }

    public GradientFlowOptions Options { get; }

    /// <summary>The norm of the whole model's gradient at each step.</summary>
    public IReadOnlyList<double> TotalNorms { get; }

    /// <summary>
    /// The size of the gradient reaching the first layer's output over that reaching the last layer's (root mean squares;
    /// the parameter gradients' norms where outputs were not seen), median over the steps; null with fewer than two layers.
    /// </summary>
    public double? FirstToLastRatio { get; }

    /// <summary>The largest finite total gradient norm of any step.</summary>
    public double MaxNorm { get; }

    /// <summary>Median total norm over the last quarter of steps divided by that over the first quarter (null with too few steps).</summary>
    public double? GrowthFactor { get; }

    public bool Vanishing { get; }

    /// <summary>Per recurrent layer watched, ‖∂L/∂h_t‖ for every time step t (empty for models without one).</summary>
    public IReadOnlyList<TimeStepGradientFlow> ThroughTime { get; }

    /// <summary>Some recurrent layer's ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ is below <see cref="GradientFlowOptions.VanishingThroughTimeRatio"/>.</summary>
    public bool VanishingThroughTime { get; }

    /// <summary>A step's norm was above <see cref="GradientFlowOptions.ExplodingNorm"/>, grew past the growth factor, or was non-finite.</summary>
    public bool Exploding { get; }

    public bool NonFinite { get; }

    public bool DeadUnits { get; }

    /// <summary>Some backward pass added to a gradient left by the previous one (a forgotten ZeroGrad, or deliberate accumulation).</summary>
    public bool Accumulating { get; }

    /// <summary>One sentence per flag raised: what was measured, against which threshold, and what usually helps.</summary>
    public IReadOnlyList<string> Findings { get; }

    /// <summary>A plain-text table (one row per layer) followed by the findings.</summary>
    public string ToText()
    {
        var rows = new List<string[]> { new[] { "layer", "δ rms", "‖g‖ median", "‖g‖ last", "mean", "std", "zero %", "dead %" } };
        foreach (var l in Layers)
            rows.Add(
            [
                l.Label,
                l.OutputGradientRms.Any(v => !double.IsNaN(v)) ? Format(l.MedianOutputGradientRms) : "",
                l.HasParameters ? Format(l.MedianNorm) : "",
                l.HasParameters ? Format(l.LastNorm) : "",
                l.Last is { } s ? Format(s.Mean) : "",
                l.Last is { } t ? Format(t.Std) : "",
                l.Last is { } z ? (100 * z.ZeroFraction).ToString("F1", CultureInfo.InvariantCulture) : "",
                l.DeadUnitFraction is { } d ? (100 * d).ToString("F1", CultureInfo.InvariantCulture) : "",
            ]);
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        sb.AppendLine($"Gradient flow over {Steps} step(s): per layer, the median size of the gradient at its output (δ rms) and of its " +
                      "parameters' gradient (‖g‖), the last ‖g‖, and the last step's mean, std, zeros and dead units");
        foreach (var row in rows)
            sb.AppendLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
        foreach (var sequence in ThroughTime.Where(q => q.Norms.Count > 0))
        {
            sb.AppendLine($"Gradient through time in {sequence.Label}: ‖∂L/∂h_t‖, median over the last {Math.Min(sequence.RecentPasses, sequence.Passes.Count)} backward pass(es)");
            foreach (int t in TimeRows(sequence.Norms.Count))
                sb.AppendLine($"  t = {t + 1,4}  {Format(sequence.Norms[t]),10}");
        }
        sb.AppendLine(Findings.Count == 0 ? "No problems found." : "Findings:");
        foreach (var f in Findings) sb.AppendLine("- " + f);
        return sb.ToString();
    }

    /// <summary>
    /// The time steps (0-based) a table of a sequence of <paramref name="length"/> steps shows: all of them up to 20, else
    /// about 20 evenly spaced, always with the first and the last.
    /// </summary>
    public static IReadOnlyList<int> TimeRows(int length)
    {
        if (length <= 20) return Enumerable.Range(0, length).ToArray();
        return Enumerable.Range(0, 20).Select(i => (int)Math.Round(i * (length - 1) / 19.0)).Distinct().ToArray();
    }

    /// <summary>A number in 4 significant digits, as the reports print it.</summary>
    public static string Format(double value) =>
        double.IsNaN(value) ? "nan" : double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf"
        : value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Percent(double fraction) => (100 * fraction).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    internal static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
