using Backprop.Diagnostics;
using static Backprop.Nn.Functional;

namespace Backprop.Ops;

/// <summary>
/// Standardisation x̂ = (x − μ)·(σ² + ε)^−½ with the mean μ and biased variance σ² taken over a set of dims: the core
/// that batch, layer and group normalisation share (they differ only in which dims they reduce and how they reshape;
/// their affine weight and bias are ordinary ops on top). Fused so the backward is one exact formula through the
/// statistics rather than a chain of seven nodes.
/// </summary>
internal sealed class NormalizeOp : Node, IGradchecked
{
    private readonly bool[] _reduced;
    private readonly int _count;

    private NormalizeOp(Tensor x, Tensor normalized, Tensor inverseStd, bool[] reduced, int count) : base(x)
    {
        _reduced = reduced;
        _count = count;
        Save(normalized, inverseStd);
    }

    /// <returns>x̂, and μ and σ² with the reduced dims kept as size 1 (constants: no graph).</returns>
    public static (Tensor Normalized, Tensor Mean, Tensor Variance) Apply(Tensor x, bool[] reduced, double eps)
    {
        var (normalized, mean, variance, _) = Compute(x, reduced, eps);
        return (normalized, mean, variance);
    }

    /// <summary>x̂, μ, σ², and r = (σ² + ε)^−½ (recorded by its own node when x̂ is).</summary>
    private static (Tensor Normalized, Tensor Mean, Tensor Variance, Tensor InverseStd) Compute(Tensor x, bool[] reduced, double eps)
    {
        int count = 1;
        for (int d = 0; d < x.Rank; d++) if (reduced[d]) count *= x.Sizes[d];
        Tensor mean, variance, inverseStd, normalized;
        if (IsTrailing(reduced) && x.IsContiguous && x.DType is DType.Float32 or DType.Float64)
        {
            // Layer norm's case: one pass per row in a kernel instead of seven elementwise passes and two reductions.
            int[] statisticSizes = [.. x.Sizes.Select((size, d) => reduced[d] ? 1 : size)];
            normalized = Tensor.Empty(x.Sizes, x.DType, x.Backend);
            mean = Tensor.Empty(statisticSizes, x.DType, x.Backend);
            variance = Tensor.Empty(statisticSizes, x.DType, x.Backend);
            inverseStd = Tensor.Empty(statisticSizes, x.DType, x.Backend);
            x.Backend.NormalizeRows(x.Strided, eps, normalized.Strided, mean.Strided, variance.Strided, inverseStd.Strided);
        }
        else
        using (Autograd.NoGrad())
        {
            var input = x.Detach();
            mean = SumOp.Apply(input, reduced, keepDim: true, divisor: count);
            var centered = input - mean;
            variance = SumOp.Apply(centered.Square(), reduced, keepDim: true, divisor: count);
            inverseStd = (variance + eps).Pow(-0.5);
            normalized = centered * inverseStd;
        }
        if (!Autograd.IsRecording(x)) return (normalized, mean, variance, inverseStd);
        // Both saved tensors carry a graph back to x for a backward with createGraph: x̂ through this node, r through
        // a node of its own. The first-order backward visits neither (this node's edge goes straight to x).
        new InverseStdOp(x, normalized, inverseStd, count).Attach(inverseStd);
        return (new NormalizeOp(x, normalized, inverseStd, reduced, count).Attach(normalized), mean, variance, inverseStd);
    }

    /// <summary>Whether the reduced dims are the trailing ones (at least one): each sample is a contiguous row.</summary>
    private static bool IsTrailing(bool[] reduced)
    {
        int first = Array.IndexOf(reduced, true);
        return first >= 0 && Array.IndexOf(reduced, false, first) < 0;
    }

    /// <summary>
    /// The r = (σ² + ε)^−½ that normalising <paramref name="x"/> saves, with its graph when recording: the output of
    /// <see cref="InverseStdOp"/>, for the tables that check that op on its own.
    /// </summary>
    internal static Tensor InverseStdOf(Tensor x, bool[] reduced, double eps) => Compute(x, reduced, eps).InverseStd;

    // Through μ and σ² as well as x directly: ∂L/∂x = r·(g − mean(g) − x̂·mean(g·x̂)), r = (σ² + ε)^−½, means over
    // the normalised dims. Under createGraph x̂ and r record through their nodes, so this formula is differentiable.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var normalized = Saved(0);
        var inverseStd = Saved(1);
        if (!Autograd.BackwardRecords && IsTrailing(_reduced) && normalized.IsContiguous && inverseStd.IsContiguous && g.DType is DType.Float32 or DType.Float64)
        {
            // No graph to build: the formula in one row-wise kernel pass.
            var gc = g.IsContiguous ? g : g.Contiguous();
            var dx = Tensor.Empty(g.Sizes, g.DType, g.Backend);
            g.Backend.NormalizeRowsBackward(gc.Strided, normalized.Strided, inverseStd.Strided, dx.Strided);
            grads[0] = dx;
            return;
        }
        var gradMean = SumOp.Apply(g, _reduced, keepDim: true) / _count;
        var projection = SumOp.Apply(g * normalized, _reduced, keepDim: true) / _count;
        grads[0] = inverseStd * (g - gradMean - normalized * projection);
    }

    // The Jacobian of x ↦ x̂ is symmetric, so the JVP is the backward's formula applied to the tangent.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var (normalized, inverseStd, tangent) = (Saved(0), Saved(1), t[0]!);
        var mean = SumOp.Apply(tangent, _reduced, keepDim: true) / _count;
        var projection = SumOp.Apply(tangent * normalized, _reduced, keepDim: true) / _count;
        return inverseStd * (tangent - mean - normalized * projection);
    }

    /// <summary>
    /// r = (σ² + ε)^−½ as a function of x, recorded beside <see cref="NormalizeOp"/> so that its backward formula,
    /// which uses r, can be differentiated again: ∂r/∂x = −r³(x − μ)/n = −r²·x̂/n, broadcast over the normalised dims.
    /// Its own backward uses only x̂ and r, which carry graphs, so every order of derivative stays exact.
    /// </summary>
    internal sealed class InverseStdOp : Node, IGradchecked
    {
        private readonly int _count;

        public InverseStdOp(Tensor x, Tensor normalized, Tensor inverseStd, int count) : base(x)
        {
            _count = count;
            Save(normalized, inverseStd);
        }

        protected internal override void Backward(Tensor g, Tensor?[] grads)
        {
            var normalized = Saved(0);
            var inverseStd = Saved(1);
            grads[0] = normalized * (g * inverseStd.Square() * (-1.0 / _count));
        }

        // dr = −r²/n · Σ x̂·t over the normalised dims: the dims r keeps as size 1 (summing any other size-1 dim is the same).
        protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
        {
            var (normalized, inverseStd) = (Saved(0), Saved(1));
            var reduced = Enumerable.Range(0, y.Rank).Select(d => y.Sizes[d] == 1).ToArray();
            return SumOp.Apply(normalized * t[0]!, reduced, keepDim: true) * (inverseStd.Square() * (-1.0 / _count));
        }

        public static IEnumerable<GradcheckCase> GradcheckCases =>
        [
            new("Normalize inverse std last dim", x => InverseStdOf(x[0], [false, true], 1e-5), [3, 4]),
            new("Normalize inverse std two dims transposed", x => InverseStdOf(x[0], [true, false, true], 1e-3), GradcheckInput.Transposed(2, 3, 4)),
        ];
    }

    private static readonly Tensor RunningMean = Tensor.FromArray(new double[] { 0.3, -0.2, 0.5 });
    private static readonly Tensor RunningVar = Tensor.FromArray(new double[] { 0.8, 1.5, 0.6 });

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("BatchNorm train 2-D", x => BatchNorm(x[0], null, null, training: true), [5, 3]),
        new("BatchNorm train 4-D affine", x => BatchNorm(x[0], Tensor.Zeros([3], DType.Float64), Tensor.Ones([3], DType.Float64),
            x[1], x[2], training: true), [2, 3, 2, 3], [3], [3]),
        new("BatchNorm train non-contiguous", x => BatchNorm(x[0], null, null, weight: x[1], training: true, eps: 1e-3),
            GradcheckInput.Transposed(2, 3, 3, 2), GradcheckInput.Positive(3)),
        new("BatchNorm eval", x => BatchNorm(x[0], RunningMean, RunningVar), [4, 3]),
        new("BatchNorm eval affine 4-D", x => BatchNorm(x[0], RunningMean, RunningVar, x[1], x[2]), [2, 3, 2, 2], [3], [3]),
        new("LayerNorm last dim", x => LayerNorm(x[0], [4]), [3, 4]),
        new("LayerNorm last dim affine strided", x => LayerNorm(x[0], [5], x[1], x[2]), GradcheckInput.Strided(2, 3, 5), [5], [5]),
        new("LayerNorm two dims affine", x => LayerNorm(x[0], [2, 3], x[1], x[2]), [3, 2, 3], [2, 3], [2, 3]),
        new("LayerNorm two dims transposed", x => LayerNorm(x[0], [3, 4]), GradcheckInput.Transposed(2, 3, 4)),
        new("GroupNorm", x => GroupNorm(x[0], 2), [2, 4, 3]),
        new("GroupNorm affine 4-D", x => GroupNorm(x[0], 3, x[1], x[2]), [2, 6, 2, 2], [6], [6]),
        new("GroupNorm one group transposed", x => GroupNorm(x[0], 1, x[1], x[2], eps: 1e-3), GradcheckInput.Transposed(2, 3, 4), [3], [3]),
    ];
}
