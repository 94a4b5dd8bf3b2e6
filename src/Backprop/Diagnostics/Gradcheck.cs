using System.Reflection;

namespace Backprop.Diagnostics;

/// <summary>How the analytical gradient of one input compared with central finite differences.</summary>
/// <param name="MaxAbsoluteError">Largest |analytical − numerical| over the Jacobian entries of this input.</param>
/// <param name="MaxRelativeError">Largest |analytical − numerical| / |numerical| (entries with numerical 0 are skipped).</param>
/// <param name="Worst">The entry (output element, input element) that exceeded the tolerance most, if any did.</param>
public sealed record GradcheckInputResult(int Input, Shape Shape, double MaxAbsoluteError, double MaxRelativeError, bool Passed,
    (int Output, int Element, double Analytical, double Numerical)? Worst);

public sealed record GradcheckResult(bool Passed, IReadOnlyList<GradcheckInputResult> Inputs)
{
    public override string ToString() => string.Join("; ", Inputs.Select(i =>
        $"input {i.Input} {i.Shape}: max abs error {i.MaxAbsoluteError:E2}, max rel error {i.MaxRelativeError:E2}" +
        (i.Passed ? "" : $" FAILED at output {i.Worst!.Value.Output}, element {i.Worst.Value.Element}: analytical {i.Worst.Value.Analytical:G6} vs numerical {i.Worst.Value.Numerical:G6}")));
}

/// <summary>
/// Checks a function's gradients against central finite differences, as torch.autograd.gradcheck does: the full
/// Jacobian is built both ways, analytically (one backward pass per output element, so every upstream direction is
/// checked, not just an all-ones one) and numerically ((f(x + ε) − f(x − ε)) / 2ε per input element).
/// Use float64 inputs; float32 rounding swamps the differences.
/// </summary>
public static class Gradcheck
{
    public static GradcheckResult Check(Func<Tensor[], Tensor> function, Tensor[] inputs,
        double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        var differentiable = Enumerable.Range(0, inputs.Length).Where(i => inputs[i].RequiresGrad).ToArray();
        if (differentiable.Length == 0) throw new ArgumentException("Gradcheck: no input requires grad.");
        foreach (var i in differentiable)
            if (inputs[i].DType != DType.Float64)
                throw new ArgumentException($"Gradcheck: input {i} is {inputs[i].DType.DisplayName()}; finite differences need float64 inputs.");

        var output = function(inputs);
        int outputs = output.NumElements;
        var analytical = differentiable.Select(i => new double[outputs, inputs[i].NumElements]).ToArray();
        if (output.RequiresGrad)
        {
            var targets = differentiable.Select(i => inputs[i]).ToArray();
            for (int j = 0; j < outputs; j++)
            {
                var basis = new double[outputs];
                basis[j] = 1;
                var v = Tensor.FromArray(basis).Reshape(output.Sizes).To(output.DType);
                var grads = Autograd.Grad([output], targets, [v], retainGraph: true, allowUnused: true);
                for (int k = 0; k < targets.Length; k++)
                {
                    if (grads[k] is not { } g) continue;
                    var row = g.ToArray<double>();
                    for (int e = 0; e < row.Length; e++) analytical[k][j, e] = row[e];
                }
            }
        }

        var results = new List<GradcheckInputResult>();
        for (int k = 0; k < differentiable.Length; k++)
        {
            var input = inputs[differentiable[k]];
            var offsets = ElementOffsets(input);
            var original = input.ToArray<double>();
            double maxAbs = 0, maxRel = 0, worstExcess = 0;
            (int, int, double, double)? worst = null;
            for (int e = 0; e < original.Length; e++)
            {
                double[] plus, minus;
                using (Autograd.NoGrad())
                {
                    SetElement(input, offsets[e], original[e] + eps);
                    plus = function(inputs).ToArray<double>();
                    SetElement(input, offsets[e], original[e] - eps);
                    minus = function(inputs).ToArray<double>();
                    SetElement(input, offsets[e], original[e]);
                }
                for (int j = 0; j < outputs; j++)
                {
                    double numerical = (plus[j] - minus[j]) / (2 * eps);
                    double a = analytical[k][j, e];
                    double error = Math.Abs(a - numerical);
                    if (double.IsNaN(a) != double.IsNaN(numerical)) error = double.PositiveInfinity;
                    maxAbs = Math.Max(maxAbs, error);
                    if (numerical != 0) maxRel = Math.Max(maxRel, error / Math.Abs(numerical));
                    double excess = error - (atol + rtol * Math.Abs(numerical));
                    if (excess > worstExcess || double.IsNaN(excess))
                    {
                        worstExcess = double.IsNaN(excess) ? double.PositiveInfinity : excess;
                        worst = (j, e, a, numerical);
                    }
                }
            }
            results.Add(new GradcheckInputResult(differentiable[k], input.Shape, maxAbs, maxRel, worst is null, worst));
        }
        return new GradcheckResult(results.All(r => r.Passed), results);
    }

    /// <summary>Runs one table row: draws its inputs (float64, seeded) and checks the function on them.</summary>
    public static GradcheckResult Run(GradcheckCase testCase, ulong seed = 0)
    {
        var generator = new Generator(seed);
        var inputs = testCase.Inputs.Select(spec => MakeInput(spec, generator)).ToArray();
        return Check(testCase.Function, inputs, testCase.Eps, testCase.Atol, testCase.Rtol);
    }

    /// <summary>A float64 leaf that requires grad, with values from the spec's domain and memory in the spec's layout.</summary>
    public static Tensor MakeInput(GradcheckInput spec, Generator generator)
    {
        var shape = spec.Shape;
        var layout = spec.Layout == InputLayout.Transposed && shape.Length < 2 ? InputLayout.Strided : spec.Layout;
        if (shape.Length == 0) layout = InputLayout.Contiguous;
        int[] storageShape = layout switch
        {
            InputLayout.Transposed => [.. shape[..^2], shape[^1], shape[^2]],
            InputLayout.Strided => [.. shape[..^1], shape[^1] * 2],
            _ => shape,
        };
        var values = new double[Shape.CountElements(storageShape)];
        for (int i = 0; i < values.Length; i++) values[i] = Draw(spec.Domain, generator);
        var backing = Tensor.FromArray(values, storageShape);
        var input = layout switch
        {
            InputLayout.Transposed => backing.MT,
            InputLayout.Strided => backing.Slice(-1, 0, shape[^1] * 2, step: 2),
            _ => backing,
        };
        input = input.Detach();
        input.RequiresGrad = true;
        return input;
    }

    private static double Draw(InputDomain domain, Generator g) => domain switch
    {
        InputDomain.NonZero => (0.1 + 1.9 * g.NextDouble()) * (g.NextDouble() < 0.5 ? -1 : 1),
        InputDomain.Positive => 0.2 + 1.8 * g.NextDouble(),
        InputDomain.Probability => 0.05 + 0.9 * g.NextDouble(),
        _ => -2 + 4 * g.NextDouble(),
    };

    private static int[] ElementOffsets(Tensor t) => Backends.Cpu.StridedLoop.Offsets(t.Strided);

    private static void SetElement(Tensor t, int offset, double value) =>
        t.Backend.Fill(new StridedView(t.Storage, [], [], offset, true), value);
}

/// <summary>Every op's gradient-check rows, gathered from the op classes (each declares its own beside its backward).</summary>
public static class GradcheckCatalog
{
    private static readonly Lazy<IReadOnlyList<(Type Op, GradcheckCase Case)>> Cases = new(Collect);

    public static IReadOnlyList<(Type Op, GradcheckCase Case)> All => Cases.Value;

    /// <summary>The op classes of the library: every concrete node type except the engine's own leaf accumulator.</summary>
    public static IEnumerable<Type> OpTypes => typeof(Node).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(Node)) && !t.IsAbstract && t != typeof(AccumulateGrad));

    private static IReadOnlyList<(Type, GradcheckCase)> Collect()
    {
        var cases = new List<(Type, GradcheckCase)>();
        foreach (var type in OpTypes.Where(t => typeof(IGradchecked).IsAssignableFrom(t)).OrderBy(t => t.Name))
        {
            var property = type.GetProperty(nameof(IGradchecked.GradcheckCases), BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
                ?? throw new InvalidOperationException($"{type.Name} implements IGradchecked without a static GradcheckCases property.");
            foreach (var c in (IEnumerable<GradcheckCase>)property.GetValue(null)!) cases.Add((type, c));
        }
        return cases;
    }
}
