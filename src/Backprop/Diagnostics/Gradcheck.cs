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
    /// <summary>The forward-mode check, when it was asked for (<c>checkForwardAd</c>); <see cref="Passed"/> includes it.</summary>
    public ForwardGradcheckResult? Forward { get; init; }

    public override string ToString() => Describe(Inputs) + (Forward is { } forward ? $"; forward mode: {forward}" : "");

    internal static string Describe(IReadOnlyList<GradcheckInputResult> inputs) => string.Join("; ", inputs.Select(i =>
        $"input {i.Input} {i.Shape}: max abs error {i.MaxAbsoluteError:E2}, max rel error {i.MaxRelativeError:E2}" +
        (i.Passed ? "" : $" FAILED at output {i.Worst!.Value.Output}, element {i.Worst.Value.Element}: analytical {i.Worst.Value.Analytical:G6} vs numerical {i.Worst.Value.Numerical:G6}")));
}

/// <summary>
/// How forward mode compared: the Jacobian built one column per input element from Jacobian-vector products (a
/// basis tangent in a dual level) against central finite differences, and the adjoint identity
/// ⟨J·v, u⟩ = ⟨v, Jᵀ·u⟩ between forward and reverse mode for random v (all inputs at once) and u.
/// </summary>
/// <param name="Inputs">Per input, the forward-mode Jacobian against the numerical one (analytical = forward mode).</param>
/// <param name="JvpDotU">⟨J·v, u⟩, from one forward-mode pass.</param>
/// <param name="VDotVjp">⟨v, Jᵀ·u⟩, from one backward pass.</param>
public sealed record ForwardGradcheckResult(bool Passed, IReadOnlyList<GradcheckInputResult> Inputs, double JvpDotU, double VDotVjp, bool AdjointPassed)
{
    public override string ToString() => GradcheckResult.Describe(Inputs) +
        $"; adjoint ⟨Jv, u⟩ = {JvpDotU:G8} vs ⟨v, Jᵀu⟩ = {VDotVjp:G8}{(AdjointPassed ? "" : " FAILED")}";
}

/// <summary>
/// Checks a function's gradients against central finite differences, as torch.autograd.gradcheck does: the full
/// Jacobian is built both ways, analytically (one backward pass per output element, so every upstream direction is
/// checked, not just an all-ones one) and numerically ((f(x + ε) − f(x − ε)) / 2ε per input element).
/// Use float64 inputs; float32 rounding swamps the differences.
/// </summary>
public static class Gradcheck
{
    /// <param name="checkForwardAd">
    /// Also check forward mode (as PyTorch's <c>check_forward_ad</c>): every op the function runs needs a JVP rule, and
    /// the result's <see cref="GradcheckResult.Forward"/> reports it (see <see cref="ForwardGradcheckResult"/>).
    /// </param>
    /// <param name="seed">Seeds the random vectors of the forward-mode adjoint check.</param>
    public static GradcheckResult Check(Func<Tensor[], Tensor> function, Tensor[] inputs,
        double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, bool checkForwardAd = false, ulong seed = 0)
    {
        var differentiable = DifferentiableInputs("Gradcheck", inputs);
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

        var forward = checkForwardAd ? ForwardJacobian(function, inputs, differentiable, outputs) : null;
        var results = new List<GradcheckInputResult>();
        var forwardResults = new List<GradcheckInputResult>();
        for (int k = 0; k < differentiable.Length; k++)
        {
            var input = inputs[differentiable[k]];
            var offsets = ElementOffsets(input);
            var original = input.ToArray<double>();
            var comparison = new JacobianComparison(atol, rtol);
            var forwardComparison = new JacobianComparison(atol, rtol);
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
                    comparison.Add(j, e, analytical[k][j, e], numerical);
                    if (forward is not null) forwardComparison.Add(j, e, forward[k][j, e], numerical);
                }
            }
            results.Add(comparison.Result(differentiable[k], input.Shape));
            if (forward is not null) forwardResults.Add(forwardComparison.Result(differentiable[k], input.Shape));
        }
        if (forward is null) return new GradcheckResult(results.All(r => r.Passed), results);
        var (jvpDotU, vDotVjp) = AdjointProducts(function, inputs, differentiable, output, new Generator(seed));
        bool adjointPassed = Math.Abs(jvpDotU - vDotVjp) <= atol + rtol * Math.Abs(vDotVjp);
        var forwardResult = new ForwardGradcheckResult(adjointPassed && forwardResults.All(r => r.Passed), forwardResults, jvpDotU, vDotVjp, adjointPassed);
        return new GradcheckResult(results.All(r => r.Passed) && forwardResult.Passed, results) { Forward = forwardResult };
    }

    /// <summary>
    /// Checks only forward mode: the forward-mode Jacobian against finite differences and the adjoint identity with
    /// reverse mode (see <see cref="ForwardGradcheckResult"/>). Use float64 inputs that require grad.
    /// </summary>
    public static ForwardGradcheckResult CheckForward(Func<Tensor[], Tensor> function, Tensor[] inputs,
        double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3, ulong seed = 0) =>
        Check(function, inputs, eps, atol, rtol, checkForwardAd: true, seed).Forward!;

    /// <summary>The largest errors of one input's Jacobian entries against the numerical ones, and the worst entry.</summary>
    private sealed class JacobianComparison(double atol, double rtol)
    {
        private double _maxAbs, _maxRel, _worstExcess;
        private (int, int, double, double)? _worst;

        public void Add(int output, int element, double analytical, double numerical)
        {
            double error = Math.Abs(analytical - numerical);
            if (double.IsNaN(analytical) != double.IsNaN(numerical)) error = double.PositiveInfinity;
            _maxAbs = Math.Max(_maxAbs, error);
            if (numerical != 0) _maxRel = Math.Max(_maxRel, error / Math.Abs(numerical));
            double excess = error - (atol + rtol * Math.Abs(numerical));
            if (excess > _worstExcess || double.IsNaN(excess))
            {
                _worstExcess = double.IsNaN(excess) ? double.PositiveInfinity : excess;
                _worst = (output, element, analytical, numerical);
            }
        }

        public GradcheckInputResult Result(int input, Shape shape) => new(input, shape, _maxAbs, _maxRel, _worst is null, _worst);
    }

    /// <summary>
    /// The Jacobian of each differentiable input built by forward mode: one pass per input element, with that element's
    /// basis vector as the input's tangent (the other inputs carry none).
    /// </summary>
    private static double[][,] ForwardJacobian(Func<Tensor[], Tensor> function, Tensor[] inputs, int[] differentiable, int outputs)
    {
        var jacobians = differentiable.Select(i => new double[outputs, inputs[i].NumElements]).ToArray();
        // With grad mode on, as the function is called in use: a function that differentiates inside (a double-backward
        // row) runs forward-over-reverse.
        using var level = ForwardAD.DualLevel();
        for (int k = 0; k < differentiable.Length; k++)
        {
            var input = inputs[differentiable[k]];
            for (int e = 0; e < input.NumElements; e++)
            {
                var basis = new double[input.NumElements];
                basis[e] = 1;
                var duals = (Tensor[])inputs.Clone();
                duals[differentiable[k]] = ForwardAD.MakeDual(input, Tensor.FromArray(basis).Reshape(input.Sizes));
                if (ForwardAD.UnpackDual(function(duals)).Tangent is not { } tangent) continue;
                var column = tangent.ToArray<double>();
                for (int j = 0; j < column.Length; j++) jacobians[k][j, e] = column[j];
            }
        }
        return jacobians;
    }

    /// <summary>⟨J·v, u⟩ by one forward-mode pass and ⟨v, Jᵀ·u⟩ by one backward pass, for random v and u in [−1, 1].</summary>
    private static (double JvpDotU, double VDotVjp) AdjointProducts(Func<Tensor[], Tensor> function, Tensor[] inputs, int[] differentiable,
        Tensor output, Generator generator)
    {
        Tensor Random(int[] sizes) => Tensor.FromArray(Enumerable.Range(0, Shape.CountElements(sizes))
            .Select(_ => 2 * generator.NextDouble() - 1).ToArray()).Reshape(sizes);
        var v = differentiable.Select(i => Random(inputs[i].Sizes)).ToArray();
        var u = Random(output.Sizes);
        double jvpDotU = 0;
        using (ForwardAD.DualLevel())
        {
            var duals = (Tensor[])inputs.Clone();
            for (int k = 0; k < differentiable.Length; k++)
                duals[differentiable[k]] = ForwardAD.MakeDual(inputs[differentiable[k]], v[k]);
            if (ForwardAD.UnpackDual(function(duals)).Tangent is { } tangent) jvpDotU = (tangent * u).Sum().Item<double>();
        }
        double vDotVjp = 0;
        if (output.RequiresGrad)
        {
            var grads = Autograd.Grad([output], differentiable.Select(i => inputs[i]).ToArray(), [u], retainGraph: true, allowUnused: true);
            for (int k = 0; k < grads.Length; k++)
                if (grads[k] is { } g) vDotVjp += (g * v[k]).Sum().Item<double>();
        }
        return (jvpDotU, vDotVjp);
    }

    /// <summary>Runs one table row: draws its inputs (float64, seeded) and checks the function on them.</summary>
    public static GradcheckResult Run(GradcheckCase testCase, ulong seed = 0, bool checkForwardAd = false)
    {
        var generator = new Generator(seed);
        var inputs = testCase.Inputs.Select(spec => MakeInput(spec, generator)).ToArray();
        return Check(testCase.Function, inputs, testCase.Eps, testCase.Atol, testCase.Rtol, checkForwardAd, seed);
    }

    /// <summary>Runs one table row in forward mode: draws its inputs as <see cref="Run"/> does and checks its JVPs.</summary>
    public static ForwardGradcheckResult RunForward(GradcheckCase testCase, ulong seed = 0) => Run(testCase, seed, checkForwardAd: true).Forward!;

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
        // Reshaped rather than passed as the shape: FromArray reads an empty shape as "1-D", and v of a scalar loss is a scalar.
        var backing = Tensor.FromArray(values).Reshape(storageShape);
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

    /// <summary>The indices of the inputs that require grad, which must be float64 for finite differences to mean anything.</summary>
    internal static int[] DifferentiableInputs(string check, Tensor[] inputs)
    {
        var differentiable = Enumerable.Range(0, inputs.Length).Where(i => inputs[i].RequiresGrad).ToArray();
        if (differentiable.Length == 0) throw new ArgumentException($"{check}: no input requires grad.");
        foreach (var i in differentiable)
            if (inputs[i].DType != DType.Float64)
                throw new ArgumentException($"{check}: input {i} is {inputs[i].DType.DisplayName()}; finite differences need float64 inputs.");
        return differentiable;
    }

    private static int[] ElementOffsets(Tensor t) => Backends.Cpu.StridedLoop.Offsets(t.Strided);

    private static void SetElement(Tensor t, int offset, double value) =>
        t.Backend.Fill(new StridedView(t.Storage, [], [], offset, true), value);
}

/// <summary>How the second derivatives of a function compared with central differences of its first derivatives.</summary>
/// <param name="Inputs">
/// Per input that requires grad: the derivative of the vector-Jacobian product vᵀ∂f/∂x with respect to that input.
/// A <see cref="GradcheckInputResult.Worst"/> output index counts through the first derivatives of all those inputs,
/// flattened and concatenated in input order (see <see cref="DescribeOutput"/>).
/// </param>
/// <param name="GradOutput">The derivative of the vector-Jacobian product with respect to the grad-output v (its Input is 0).</param>
/// <param name="FirstDerivatives">The inputs whose first derivatives make up the differentiated vector, with their shapes.</param>
public sealed record GradgradcheckResult(bool Passed, IReadOnlyList<GradcheckInputResult> Inputs, GradcheckInputResult GradOutput,
    IReadOnlyList<(int Input, Shape Shape)> FirstDerivatives)
{
    /// <summary>Which first derivative an output index of the second-order Jacobian is: "∂/∂input 1 element 4".</summary>
    public string DescribeOutput(int output)
    {
        foreach (var (input, shape) in FirstDerivatives)
        {
            if (output < shape.NumElements) return $"∂/∂input {input} element {output}";
            output -= shape.NumElements;
        }
        return $"first-derivative element {output}";
    }

    public override string ToString() => string.Join("; ", Inputs.Select(i => Describe($"w.r.t. input {i.Input} {i.Shape}", i))
        .Append(Describe($"w.r.t. grad output {GradOutput.Shape}", GradOutput)));

    private string Describe(string what, GradcheckInputResult r) =>
        $"{what}: max abs error {r.MaxAbsoluteError:E2}, max rel error {r.MaxRelativeError:E2}" +
        (r.Passed ? "" : $" FAILED at {DescribeOutput(r.Worst!.Value.Output)}, element {r.Worst.Value.Element}: " +
            $"analytical {r.Worst.Value.Analytical:G6} vs numerical {r.Worst.Value.Numerical:G6}");
}

/// <summary>
/// Checks a function's second derivatives as torch.autograd.gradgradcheck does: for a fixed random grad-output v,
/// the vector-Jacobian product (x, v) ↦ vᵀ∂f/∂x, computed by backward with <c>createGraph: true</c>, is itself
/// gradchecked: its full Jacobian with respect to every input x and to v, built by backward through the graph of
/// the gradient, against central differences of the first derivative. The first derivatives that are differenced
/// are computed without <c>createGraph</c>, the path training takes (fused kernels, constants), so a double
/// backward that disagrees with the ordinary backward fails too. Use float64 inputs.
/// </summary>
public static class Gradgradcheck
{
    /// <param name="gradOutput">v, of the output's shape; drawn uniformly in [−2, 2] from <paramref name="generator"/> when null.</param>
    public static GradgradcheckResult Check(Func<Tensor[], Tensor> function, Tensor[] inputs, Tensor? gradOutput = null,
        Generator? generator = null, double eps = 1e-6, double atol = 1e-5, double rtol = 1e-3)
    {
        var differentiable = Gradcheck.DifferentiableInputs("Gradgradcheck", inputs);
        if (gradOutput is null)
        {
            Tensor output;
            using (Autograd.NoGrad()) output = function(inputs);
            gradOutput = Gradcheck.MakeInput(new GradcheckInput(output.Sizes), generator ?? new Generator(0));
        }
        else
        {
            gradOutput = gradOutput.To(DType.Float64).Detach();
            gradOutput.RequiresGrad = true;
        }

        var firstOrder = Gradcheck.Check(all => FirstDerivatives(function, all, differentiable), [.. inputs, gradOutput], eps, atol, rtol);
        var byInput = firstOrder.Inputs.Where(r => r.Input < inputs.Length).ToList();
        var byGradOutput = firstOrder.Inputs.Single(r => r.Input == inputs.Length);
        return new GradgradcheckResult(firstOrder.Passed, byInput, byGradOutput with { Input = 0 },
            differentiable.Select(i => (i, inputs[i].Shape)).ToList());
    }

    /// <summary>Runs one table row: draws its inputs and then v (float64, seeded) and checks the second derivatives.</summary>
    public static GradgradcheckResult Run(GradcheckCase testCase, ulong seed = 0)
    {
        var generator = new Generator(seed);
        var inputs = testCase.Inputs.Select(spec => Gradcheck.MakeInput(spec, generator)).ToArray();
        return Check(testCase.Function, inputs, generator: generator, eps: testCase.Eps, atol: testCase.Atol, rtol: testCase.Rtol);
    }

    /// <summary>
    /// vᵀ∂f/∂x for every input x that requires grad, flattened and concatenated; v is the last entry of
    /// <paramref name="all"/>. When grad mode is on (gradcheck's analytical pass) the result carries the graph of the
    /// gradient; under NoGrad (its finite differences) backward runs as in training, without one.
    /// </summary>
    private static Tensor FirstDerivatives(Func<Tensor[], Tensor> function, Tensor[] all, int[] differentiable)
    {
        bool createGraph = Autograd.IsGradEnabled;
        var inputs = all[..^1];
        var v = all[^1];
        var targets = differentiable.Select(i => inputs[i]).ToArray();
        using (Autograd.EnableGrad())
        {
            var output = function(inputs);
            var grads = output.RequiresGrad
                ? Autograd.Grad([output], targets, [v], createGraph: createGraph, allowUnused: true)
                : new Tensor?[targets.Length];
            return Tensor.Cat(grads.Select((g, k) => (g ?? Tensor.Zeros(targets[k].Shape, DType.Float64)).Reshape(-1)));
        }
    }
}

/// <summary>Every op's gradient-check rows, gathered from the op classes (each declares its own beside its backward).</summary>
public static class GradcheckCatalog
{
    private static readonly Lazy<IReadOnlyList<(Type Op, GradcheckCase Case)>> Cases = new(Collect);

    public static IReadOnlyList<(Type Op, GradcheckCase Case)> All => Cases.Value;

    /// <summary>
    /// The rows of the second-order table: every first-order row whose op class is not declared
    /// <see cref="IOnceDifferentiable"/>.
    /// </summary>
    public static IEnumerable<(Type Op, GradcheckCase Case)> SecondOrder => All.Where(c => !IsOnceDifferentiable(c.Op));

    /// <summary>The op classes declared once-differentiable, with the reason each gives.</summary>
    public static IEnumerable<(Type Op, string Reason)> OnceDifferentiable =>
        OpTypes.Where(IsOnceDifferentiable).OrderBy(t => t.Name).Select(t => (t, OnceDifferentiableBackward.Reason(t)));

    public static bool IsOnceDifferentiable(Type op) => typeof(IOnceDifferentiable).IsAssignableFrom(op);

    /// <summary>
    /// The op classes of the library: every concrete node type except the engine's own (the leaf accumulator, the
    /// marker on a once-differentiable op's gradients, and the nodes of custom functions, whose derivatives are
    /// their authors' to check).
    /// </summary>
    public static IEnumerable<Type> OpTypes => typeof(Node).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(Node)) && !t.IsAbstract && t != typeof(AccumulateGrad) && t != typeof(OnceDifferentiableBackward)
            && t != typeof(FunctionNode) && t != typeof(FunctionOutputNode));

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
