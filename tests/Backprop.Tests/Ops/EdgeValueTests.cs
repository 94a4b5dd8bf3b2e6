using Backprop.Diagnostics;
using Backprop.Ops;
using static Backprop.Nn.Functional;

namespace Backprop.Tests.Ops;

/// <summary>
/// Every op at its edges: zeros, kinks, exact ties, constant rows, empty tensors, ±Inf and NaN, with the values and
/// gradients PyTorch 2.x documents or computes (its derivatives.yaml rules, cited where the answer is not obvious).
/// Where PyTorch's kernel evaluates a formula literally into NaN at an infinity and the function has a plain limit
/// there, the table asks for the limit and says so.
/// </summary>
public partial class EdgeValueTests
{
    private const double Inf = double.PositiveInfinity;
    private const double NaN = double.NaN;
    private static readonly double TwoOverSqrtPi = 2 / Math.Sqrt(Math.PI);

    private static EdgeTensor V(params double[] values) => new([values.Length], values);
    private static EdgeTensor T(int[] shape, params double[] values) => new(shape, values);
    private static EdgeTensor Empty(params int[] shape) => new(shape, []);
    private static EdgeTensor Full(int[] shape, double value) => new(shape, Enumerable.Repeat(value, Shape.CountElements(shape)).ToArray());

    private static readonly Tensor NoIndices = Tensor.FromArray(Array.Empty<long>(), 0);

    /// <summary>The whole table: the rows below, and those of the op families kept in files of their own (EdgeValueTests.*.cs).</summary>
    public static IReadOnlyList<EdgeRow> Rows { get; } = WithEmptyRows([.. BuildRows(), .. MathRows, .. ScatterRows, .. OrderingRows, .. IndexingRows, .. RecurrentRows]);

    /// <summary>
    /// Adds, for each op with a pointwise row, the same call on empty [0] inputs (an empty result and empty
    /// gradients), unless the table already has a row for that op on a [0] input.
    /// </summary>
    private static List<EdgeRow> WithEmptyRows(List<EdgeRow> rows)
    {
        var generated = rows.Where(r => r.Pointwise)
            .GroupBy(r => r.Op)
            .Where(g => !rows.Any(r => r.Op == g.Key && r.Inputs.Any(i => i.Shape.SequenceEqual([0]))))
            .Select(g => g.First())
            .Select(r => r with
            {
                Case = r.Case + ", on empty [0] inputs",
                Inputs = r.Inputs.Select(_ => Empty(0)).ToArray(),
                Value = Empty(0),
                Gradients = r.Gradients.Select(grad => grad is null ? null : Empty(0)).ToArray(),
                Upstream = null,
                Pointwise = false,
            })
            .ToList();
        return [.. rows, .. generated];
    }

    private static List<EdgeRow> BuildRows() =>
    [
        // ---- Arithmetic ----
        new(typeof(AddOp), "infinities and NaN", x => x[0] + x[1],
            [V(1, Inf, -Inf, NaN, Inf), V(2, 1, -Inf, 1, -Inf)], V(3, Inf, -Inf, NaN, NaN),
            [V(1, 1, 1, 1, 1), V(1, 1, 1, 1, 1)]) { Pointwise = true },
        // A [1] operand broadcast over an empty tensor receives the sum of no gradients: 0.
        new(typeof(AddOp), "empty broadcast", x => x[0] + x[1], [Empty(2, 0), V(5)], Empty(2, 0), [Empty(2, 0), V(0)]),
        new(typeof(SubOp), "infinities and NaN", x => x[0] - x[1],
            [V(Inf, 1, NaN, -Inf), V(Inf, -Inf, 0, 1)], V(NaN, Inf, NaN, -Inf), [V(1, 1, 1, 1), V(-1, -1, -1, -1)]) { Pointwise = true },
        new(typeof(SubOp), "empty", x => x[0] - x[1], [Empty(0), Empty(0)], Empty(0), [Empty(0), Empty(0)]),
        // ∂(ab)/∂a = b and ∂(ab)/∂b = a, however large: 0·Inf is NaN.
        new(typeof(MulOp), "zero times infinity", x => x[0] * x[1],
            [V(0, 2, NaN, Inf, -0.0), V(Inf, 3, 1, -1, 5)], V(NaN, 6, NaN, -Inf, 0),
            [V(Inf, 3, 1, -1, 5), V(0, 2, NaN, Inf, 0)]) { Pointwise = true },
        new(typeof(MulOp), "empty", x => x[0] * x[1], [Empty(2, 0), Empty(2, 0)], Empty(2, 0), [Empty(2, 0), Empty(2, 0)]),
        // ∂(a/b)/∂a = 1/b; ∂(a/b)/∂b = −(a/b)/b (PyTorch's div_tensor_other_backward), so 1/0 gives ±Inf and 0/0 NaN.
        new(typeof(DivOp), "division by zero and infinity", x => x[0] / x[1],
            [V(1, -1, 0, 1, Inf, 0, 6), V(0, 0, 0, Inf, Inf, 2, -3)], V(Inf, -Inf, NaN, 0, NaN, 0, -2),
            [V(Inf, Inf, Inf, 0, 0, 0.5, -1.0 / 3), V(-Inf, Inf, NaN, 0, NaN, 0, -2.0 / 3)]) { Pointwise = true },
        // b² overflows where a/b/b does not: −(a/b)/b keeps the gradient −a/b² finite.
        new(typeof(DivOp), "large divisor (float64)", x => x[0] / x[1], [V(1e300, 1e-300), V(1e200, 1e-200)],
            V(1e100, 1e-100), [V(1e-200, 1e200), V(-1e-100, -1e100)]) { DTypes = [DType.Float64], AbsoluteFloor = 0 },
        new(typeof(DivOp), "large divisor (float32)", x => x[0] / x[1], [V(1e30, 1e-30), V(1e20, 1e-20)],
            V(1e10, 1e-10), [V(1e-20, 1e20), V(-1e-10, -1e10)]) { DTypes = [DType.Float32], Float32Tolerance = 1e-5, AbsoluteFloor = 0 },
        new(typeof(NegOp), "zero, infinity, NaN", x => -x[0], [V(0, Inf, NaN, -Inf)], V(0, -Inf, NaN, Inf), [V(-1, -1, -1, -1)]) { Pointwise = true },
        new(typeof(NegOp), "empty", x => -x[0], [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),

        // ---- Powers, roots, logs ----
        // pow_backward masks the gradient where the exponent is 0: d(x⁰)/dx = 0 everywhere, even at x = 0 and NaN.
        new(typeof(PowOp), "exponent 0", x => x[0].Pow(0), [V(0, 2, -1, Inf, NaN)], V(1, 1, 1, 1, 1), [V(0, 0, 0, 0, 0)]) { Pointwise = true },
        new(typeof(PowOp), "exponent 2", x => x[0].Pow(2), [V(0, -3, Inf, -Inf, NaN)], V(0, 9, Inf, Inf, NaN), [V(0, -6, Inf, -Inf, NaN)]) { Pointwise = true },
        new(typeof(PowOp), "exponent 3 negative base", x => x[0].Pow(3), [V(-2, 0, -Inf)], V(-8, 0, -Inf), [V(12, 0, Inf)]) { Pointwise = true },
        new(typeof(PowOp), "exponent 1 at 0", x => x[0].Pow(1), [V(0, -2)], V(0, -2), [V(1, 1)]) { Pointwise = true },
        // ½x^(−½): +Inf at 0; a negative base with a fractional exponent is NaN.
        new(typeof(PowOp), "exponent 0.5", x => x[0].Pow(0.5), [V(0, 4, Inf, -1)], V(0, 2, Inf, NaN), [V(Inf, 0.25, 0, NaN)]) { Pointwise = true },
        new(typeof(PowOp), "exponent -1", x => x[0].Pow(-1), [V(0, 2, Inf)], V(Inf, 0.5, 0), [V(-Inf, -0.25, 0)]) { Pointwise = true },
        // pow_backward_self: 0 where e = 0. pow_backward_exponent: 0 where a = 0 and e ≥ 0, else aᵉ·ln a (0^−1·ln 0 = −Inf).
        new(typeof(PowOp), "zero base, tensor exponent", x => Tensor.Pow(x[0], x[1]),
            [V(0, 0, 0, 2, 0, -2), V(0, 2, 0.5, 3, -1, 2)], V(1, 0, 0, 8, Inf, 4),
            [V(0, 0, Inf, 12, -Inf, -4), V(0, 0, 0, 8 * Math.Log(2), -Inf, NaN)]) { Pointwise = true },
        new(typeof(PowOp), "zero base constant, exponent requires grad", x => Tensor.Pow(x[1] * 0.0, x[0]),
            [V(0, 1, 2.5), V(3, 3, 3)], V(1, 0, 0), [V(0, 0, 0), null]) { Pointwise = true },
        new(typeof(PowOp), "empty", x => Tensor.Pow(x[0], x[1]), [Empty(2, 0), Empty(2, 0)], Empty(2, 0), [Empty(2, 0), Empty(2, 0)]),
        // sqrt_backward: g / (2√x): +Inf at 0, 0 at +Inf.
        new(typeof(SqrtOp), "zero, negative, infinity", x => x[0].Sqrt(), [V(0, 4, Inf, -1, NaN)], V(0, 2, Inf, NaN, NaN),
            [V(Inf, 0.25, 0, NaN, NaN)]) { Pointwise = true },
        new(typeof(SqrtOp), "empty", x => x[0].Sqrt(), [Empty(0)], Empty(0), [Empty(0)]),
        // log_backward is g / x, so even at x = −1 (value NaN) the gradient is −1.
        new(typeof(LogOp), "zero, negative, infinity", x => x[0].Log(), [V(0, 1, Inf, -1, NaN)], V(-Inf, 0, Inf, NaN, NaN),
            [V(Inf, 1, 0, -1, NaN)]) { Pointwise = true },
        new(typeof(LogOp), "empty", x => x[0].Log(), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),
        new(typeof(Log1pOp), "minus one and infinity", x => x[0].Log1p(), [V(-1, 0, Inf, -2)], V(-Inf, 0, Inf, NaN),
            [V(Inf, 1, 0, -1)]) { Pointwise = true },
        new(typeof(ExpOp), "infinities and NaN", x => x[0].Exp(), [V(0, -Inf, Inf, NaN, 1)], V(1, 0, Inf, NaN, Math.E),
            [V(1, 0, Inf, NaN, Math.E)]) { Pointwise = true },
        new(typeof(ExpOp), "empty", x => x[0].Exp(), [Empty(0)], Empty(0), [Empty(0)]),
        // abs_backward is g·sgn(x): 0 at the kink.
        new(typeof(AbsOp), "kink at 0 and infinities", x => x[0].Abs(), [V(0, -0.0, -2, 3, -Inf, Inf)], V(0, 0, 2, 3, Inf, Inf),
            [V(0, 0, -1, 1, -1, 1)]) { Pointwise = true },
        new(typeof(AbsOp), "NaN stays NaN", x => x[0].Abs(), [V(NaN, -1)], V(NaN, 1), [null]) { Pointwise = true },
        new(typeof(AbsOp), "empty", x => x[0].Abs(), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),

        // ---- Trigonometric and special ----
        new(typeof(SinOp), "zero, infinities, NaN", x => x[0].Sin(), [V(0, Inf, -Inf, NaN)], V(0, NaN, NaN, NaN), [V(1, NaN, NaN, NaN)]) { Pointwise = true },
        new(typeof(CosOp), "zero, infinity, NaN", x => x[0].Cos(), [V(0, Inf, NaN)], V(1, NaN, NaN), [V(0, NaN, NaN)]) { Pointwise = true },
        new(typeof(ErfOp), "zero, infinities, NaN", x => x[0].Erf(), [V(0, Inf, -Inf, NaN)], V(0, 1, -1, NaN),
            [V(TwoOverSqrtPi, 0, 0, NaN)]) { Pointwise = true },

        // ---- Clamp, Where, Maximum, Minimum ----
        // clamp_backward passes the gradient where min ≤ x ≤ max: 1 on both boundaries, 0 at NaN (the test is false).
        new(typeof(ClampOp), "boundaries, infinities, NaN", x => x[0].Clamp(-1, 1),
            [V(-1, 1, -2, 2, 0, NaN, Inf, -Inf)], V(-1, 1, -1, 1, 0, NaN, 1, -1), [V(1, 1, 0, 0, 1, 0, 0, 0)]) { Pointwise = true },
        new(typeof(ClampOp), "min only at infinity", x => x[0].Clamp(min: 0), [V(0, -1, Inf, -Inf)], V(0, 0, Inf, 0), [V(1, 0, 1, 0)]) { Pointwise = true },
        new(typeof(ClampOp), "min equals max", x => x[0].Clamp(2, 2), [V(1, 2, 3)], V(2, 2, 2), [V(0, 1, 0)]) { Pointwise = true },
        new(typeof(ClampOp), "empty", x => x[0].Clamp(0, 1), [Empty(0)], Empty(0), [Empty(0)]),
        // where_backward routes g itself, not g·mask: Inf and NaN in the unselected branch or in g never leak across.
        new(typeof(WhereOp), "non-finite values in the unselected branch", x => Tensor.Where(Pattern, x[0], x[1]),
            [V(NaN, Inf, 1, 2), V(3, 4, NaN, -Inf)], V(NaN, 4, 1, -Inf), [V(Inf, 0, 2, 0), V(0, NaN, 0, 3)]) { Upstream = V(Inf, NaN, 2, 3) },
        new(typeof(WhereOp), "empty", x => Tensor.Where(NoCondition, x[0], x[1]), [Empty(2, 0), Empty(2, 0)], Empty(2, 0), [Empty(2, 0), Empty(2, 0)]),
        // maximum: self gets g/2 at ties and 0 where self < other; other likewise. Neither mask holds at NaN, so
        // both inputs receive the whole gradient there.
        new(typeof(ExtremumPairOp), "Maximum ties, infinities, NaN", x => Tensor.Maximum(x[0], x[1]),
            [V(1, 2, 3, NaN, 1, Inf, -Inf), V(1, 3, 2, 1, NaN, Inf, -Inf)], V(1, 3, 3, NaN, NaN, Inf, -Inf),
            [V(0.5, 0, 1, 1, 1, 0.5, 0.5), V(0.5, 1, 0, 1, 1, 0.5, 0.5)]) { Pointwise = true },
        new(typeof(ExtremumPairOp), "Minimum ties, infinities, NaN", x => Tensor.Minimum(x[0], x[1]),
            [V(1, 2, 3, NaN, -Inf), V(1, 3, 2, 1, -Inf)], V(1, 2, 2, NaN, -Inf),
            [V(0.5, 1, 0, 1, 0.5), V(0.5, 0, 1, 1, 0.5)]) { Pointwise = true },
        new(typeof(ExtremumPairOp), "Maximum empty broadcast", x => Tensor.Maximum(x[0], x[1]), [Empty(2, 0), V(1)], Empty(2, 0), [Empty(2, 0), V(0)]),

        // ---- Reductions ----
        // Max() without a dim (like amax) distributes the gradient evenly among the tied maxima.
        new(typeof(ExtremumOp), "Max all with ties", x => x[0].Max(), [V(1, 3, 3, 2)], 3.0, [V(0, 0.5, 0.5, 0)]),
        new(typeof(ExtremumOp), "Min all with ties at -Inf", x => x[0].Min(), [V(-Inf, 1, -Inf)], -Inf, [V(0.5, 0, 0.5)]),
        new(typeof(ExtremumOp), "Max of constant", x => x[0].Max(), [Full([2, 2], 7)], 7.0, [Full([2, 2], 0.25)]),
        // NaN propagates, and evenly_distribute_backward gives the gradient to the NaN elements.
        new(typeof(ExtremumOp), "Max all with NaN", x => x[0].Max(), [V(1, NaN, 3)], NaN, [V(0, 1, 0)]),
        new(typeof(ExtremumOp), "Max dim with ties", x => x[0].Max(1), [T([2, 2], 1, 1, 2, 0)], V(1, 2), [T([2, 2], 0.5, 0.5, 1, 0)]),
        // max(dim) with indices: the gradient goes to the returned index, the first maximum, not shared.
        new(typeof(GatherOp), "MaxWithIndices ties route to the first index", x => x[0].MaxWithIndices(1).Values,
            [T([1, 3], 3, 3, 1)], V(3), [T([1, 3], 1, 0, 0)]),
        // PyTorch: max of an empty tensor has no identity and is an error; over a non-empty dim of one it is empty.
        new(typeof(ExtremumOp), "Max of empty throws", x => x[0].Max(), [Empty(0)], null, [Empty(0)]) { Throws = typeof(InvalidOperationException) },
        new(typeof(ExtremumOp), "Max over the empty dim throws", x => x[0].Max(1), [Empty(2, 0)], null, [Empty(2, 0)]) { Throws = typeof(InvalidOperationException) },
        new(typeof(ExtremumOp), "Max over a non-empty dim of an empty tensor", x => x[0].Max(0), [Empty(2, 0)], Empty(0), [Empty(2, 0)]),
        new(typeof(SumOp), "Sum of empty is 0", x => x[0].Sum(), [Empty(0)], 0.0, [Empty(0)]),
        new(typeof(SumOp), "Sum over the empty dim", x => x[0].Sum(1), [Empty(2, 0)], V(0, 0), [Empty(2, 0)]),
        // torch.mean of an empty tensor is 0/0 = NaN; var/std divide by max(0, n − correction): NaN for one element.
        new(typeof(SumOp), "Mean of empty is NaN", x => x[0].Mean(), [Empty(0)], NaN, [Empty(0)]),
        new(typeof(SumOp), "Var of one element is NaN", x => x[0].Var(), [V(3)], NaN, [V(NaN)]),
        new(typeof(SumOp), "Std of one element is NaN", x => x[0].Std(), [V(3)], NaN, [V(NaN)]),
        new(typeof(SumOp), "Var of a constant row is 0", x => x[0].Var(), [V(12345.678, 12345.678, 12345.678)], 0.0, [V(0, 0, 0)]),
        // torch.linalg.vector_norm's backward masks the zero norm: the subgradient 0, not 0/0.
        new(typeof(NormOp), "Norm of a zero vector", x => x[0].Norm(), [V(0, 0, 0)], 0.0, [V(0, 0, 0)]),
        new(typeof(SumOp), "Sum with opposite infinities", x => x[0].Sum(), [V(Inf, -Inf, 1)], NaN, [V(1, 1, 1)]),

        // ---- Activations ----
        // threshold_backward: ReLU′(0) = 0.
        new(typeof(ReluOp), "kink at 0 and infinities", x => x[0].Relu(), [V(-1, 0, 2, Inf, -Inf)], V(0, 0, 2, Inf, 0),
            [V(0, 0, 1, 1, 0)]) { Pointwise = true },
        // threshold_backward is `y <= 0 ? 0 : g`, so at a NaN output the comparison fails and g passes.
        new(typeof(ReluOp), "NaN stays NaN", x => x[0].Relu(), [V(NaN, -1, 1)], V(NaN, 0, 1), [V(1, 0, 1)]) { Pointwise = true },
        new(typeof(ReluOp), "infinite upstream gradient leaves exact zeros", x => x[0].Relu(), [V(-1, 0, 2)], V(0, 0, 2), [V(0, 0, NaN)])
            { Pointwise = true, Upstream = V(Inf, -Inf, NaN) },
        new(typeof(ReluOp), "empty", x => x[0].Relu(), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),
        // leaky_relu_backward: x > 0 ? g : g·slope, so the slope at 0.
        new(typeof(LeakyReluOp), "kink at 0, infinities, NaN", x => x[0].LeakyRelu(0.1), [V(-1, 0, 2, Inf, -Inf, NaN)],
            V(-0.1, 0, 2, Inf, -Inf, NaN), [V(0.1, 0.1, 1, 1, 0.1, 0.1)]) { Pointwise = true },
        // elu_backward: x ≤ 0 ? g·α·eˣ : g, so α at 0, 0 at −Inf and 1 at +Inf.
        new(typeof(EluOp), "kink at 0 and infinities", x => x[0].Elu(), [V(-1, 0, 2, Inf, -Inf)],
            V(Math.Exp(-1) - 1, 0, 2, Inf, -1), [V(Math.Exp(-1), 1, 1, 1, 0)]) { Pointwise = true },
        new(typeof(EluOp), "alpha 0.5 at 0", x => x[0].Elu(0.5), [V(0, -Inf)], V(0, -0.5), [V(0.5, 0)]) { Pointwise = true },
        // elu_backward tests x ≤ 0; a NaN input fails it and takes the positive branch's g.
        new(typeof(EluOp), "NaN stays NaN", x => x[0].Elu(), [V(NaN, -1)], V(NaN, Math.Exp(-1) - 1), [V(1, Math.Exp(-1))]) { Pointwise = true },
        // GELU = x·Φ(x) → 0 as x → −Inf and GELU′ = Φ + xφ → 1 at +Inf, 0 at −Inf. PyTorch's CPU kernel evaluates
        // the products literally and returns NaN at ±Inf (−Inf·0); the limits are the math, so the table asks for them.
        new(typeof(GeluOp), "zero and infinities", x => x[0].Gelu(), [V(0, Inf, -Inf, 1)],
            V(0, Inf, 0, 0.5 * (1 + SpecialErf(1 / Math.Sqrt(2)))),
            [V(0.5, 1, 0, 0.5 * (1 + SpecialErf(1 / Math.Sqrt(2))) + Math.Exp(-0.5) / Math.Sqrt(2 * Math.PI))]) { Pointwise = true },
        new(typeof(GeluOp), "NaN", x => x[0].Gelu(), [V(NaN)], V(NaN), [V(NaN)]) { Pointwise = true },
        new(typeof(SigmoidOp), "zero, infinities, NaN, saturation", x => x[0].Sigmoid(), [V(0, Inf, -Inf, NaN, -200)],
            V(0.5, 1, 0, NaN, 0), [V(0.25, 0, 0, NaN, 0)]) { Pointwise = true },
        new(typeof(SigmoidOp), "empty", x => x[0].Sigmoid(), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),
        new(typeof(TanhOp), "zero, infinities, NaN, saturation", x => x[0].Tanh(), [V(0, Inf, -Inf, NaN, 30)],
            V(0, 1, -1, NaN, 1), [V(1, 0, 0, NaN, 0)]) { Pointwise = true },
        // softplus = log(1 + eˣ) without overflow: x for large x, eˣ for very negative x; its gradient is σ(x).
        new(typeof(SoftplusOp), "zero, infinities, NaN, large inputs", x => x[0].Softplus(), [V(0, Inf, -Inf, NaN, 100, -100)],
            V(Math.Log(2), Inf, 0, NaN, 100, Math.Exp(-100)), [V(0.5, 1, 0, NaN, 1, Math.Exp(-100))]) { Pointwise = true },
        // The tail relative to its own size, not to 1: softplus(x) = eˣ(1 − eˣ/2 + …) there (float32 would be subnormal).
        new(typeof(SoftplusOp), "tiny tail is relatively accurate", x => x[0].Softplus(), [V(-30, -100, -700)],
            V(Math.Exp(-30) - Math.Exp(-60) / 2, Math.Exp(-100), Math.Exp(-700)), [V(1 / (1 + Math.Exp(30)), Math.Exp(-100), Math.Exp(-700))])
            { DTypes = [DType.Float64], AbsoluteFloor = 1e-310 },
        new(typeof(SoftplusOp), "beta 2 at large inputs", x => x[0].Softplus(2), [V(50, -50, 0)], V(50, Math.Exp(-100) / 2, Math.Log(2) / 2),
            [V(1, Math.Exp(-100), 0.5)]) { Pointwise = true },

        // ---- Softmax family ----
        // A constant row is uniform; the Jacobian-vector product is y ⊙ (g − Σ g·y).
        new(typeof(SoftmaxOp), "constant row", x => x[0].Softmax(1), [Full([1, 3], 5)], Full([1, 3], 1.0 / 3),
            [T([1, 3], 2.0 / 9, -1.0 / 9, -1.0 / 9)]) { Upstream = T([1, 3], 1, 0, 0) },
        new(typeof(SoftmaxOp), "-Inf entry takes no mass", x => x[0].Softmax(0), [V(0, -Inf, 0)], V(0.5, 0, 0.5),
            [V(0.25, 0, -0.25)]) { Upstream = V(1, 0, 0) },
        // exp(x − max) with max = −Inf (an all −Inf row) is exp(NaN): PyTorch returns NaN for the whole row.
        new(typeof(SoftmaxOp), "all -Inf row is NaN", x => x[0].Softmax(1), [T([2, 2], -Inf, -Inf, 0, 0)], T([2, 2], NaN, NaN, 0.5, 0.5),
            [T([2, 2], NaN, NaN, 0, 0)]),
        // x − max(x) is ∞ − ∞ = NaN at a +∞ entry, and the NaN reaches the whole row through the denominator.
        new(typeof(SoftmaxOp), "+Inf entry makes the row NaN", x => x[0].Softmax(0), [V(Inf, 0)], V(NaN, NaN), [V(NaN, NaN)]),
        new(typeof(SoftmaxOp), "large logits", x => x[0].Softmax(0), [V(1000, 0)], V(1, 0), [V(0, 0)]) { Upstream = V(1, 0) },
        new(typeof(SoftmaxOp), "empty dim", x => x[0].Softmax(1), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),
        new(typeof(SoftmaxOp), "empty batch", x => x[0].Softmax(1), [Empty(0, 3)], Empty(0, 3), [Empty(0, 3)]),
        // log_softmax_backward: g − eʸ·Σg. A −Inf logit keeps −Inf and gets the full upstream gradient.
        new(typeof(LogSoftmaxOp), "-Inf entry", x => x[0].LogSoftmax(0), [V(0, -Inf)], V(0, -Inf), [V(-1, 1)]),
        new(typeof(LogSoftmaxOp), "constant row", x => x[0].LogSoftmax(1), [Full([1, 2], 3)], Full([1, 2], -Math.Log(2)),
            [T([1, 2], 0.5, -0.5)]) { Upstream = T([1, 2], 1, 0) },
        new(typeof(LogSoftmaxOp), "+Inf entry makes the row NaN", x => x[0].LogSoftmax(0), [V(Inf, 0)], V(NaN, NaN), [V(NaN, NaN)]),
        new(typeof(LogSoftmaxOp), "all -Inf row is NaN", x => x[0].LogSoftmax(0), [V(-Inf, -Inf)], V(NaN, NaN), [V(NaN, NaN)]),
        new(typeof(LogSoftmaxOp), "large logits", x => x[0].LogSoftmax(0), [V(1000, 0)], V(0, -1000), [V(-1, 1)]),
        new(typeof(LogSoftmaxOp), "empty dim", x => x[0].LogSoftmax(1), [Empty(3, 0)], Empty(3, 0), [Empty(3, 0)]),

        // ---- Movement ----
        new(typeof(CatOp), "with an empty tensor", x => Tensor.Cat([x[0], x[1]], 0), [V(1, NaN), Empty(0)], V(1, NaN), [V(1, 1), Empty(0)]),
        new(typeof(CatOp), "empty along the joined dim", x => Tensor.Cat([x[0], x[1]], 1), [Empty(2, 0), T([2, 1], Inf, -Inf)],
            T([2, 1], Inf, -Inf), [Empty(2, 0), T([2, 1], 1, 1)]),
        new(typeof(CatOp), "all empty", x => Tensor.Cat([x[0], x[1]], 0), [Empty(0), Empty(0)], Empty(0), [Empty(0), Empty(0)]),
        new(typeof(ViewOp), "reshape of empty", x => x[0].Reshape(-1), [Empty(2, 0)], Empty(0), [Empty(2, 0)]),
        new(typeof(ViewOp), "reshape empty to another empty shape", x => x[0].Reshape(0, 3), [Empty(3, 0)], Empty(0, 3), [Empty(3, 0)]),
        new(typeof(SliceOp), "zero-length slice", x => x[0].Narrow(1, 1, 0), [T([2, 2], NaN, 1, Inf, 2)], Empty(2, 0), [Full([2, 2], 0)]),
        new(typeof(SliceOp), "slice of empty", x => x[0].Narrow(0, 1, 1), [Empty(2, 0)], Empty(1, 0), [Empty(2, 0)]),
        new(typeof(SliceScatterOp), "empty source", x => SliceScatterOp.Apply(x[0], [2, 3], 1, 0, 1), [Empty(2, 0)], Full([2, 3], 0), [Empty(2, 0)]),
        new(typeof(SliceScatterOp), "non-finite source", x => SliceScatterOp.Apply(x[0], [1, 3], 1, 1, 1), [T([1, 2], NaN, -Inf)],
            T([1, 3], 0, NaN, -Inf), [T([1, 2], 1, 1)]),
        // Expanding a size-1 dim to 0 is allowed; the gradient sums nothing.
        new(typeof(ExpandOp), "expand to zero", x => x[0].Expand(2, 0), [V(Inf)], Empty(2, 0), [V(0)]),
        new(typeof(ExpandOp), "expand infinity", x => x[0].Expand(3), [V(Inf)], V(Inf, Inf, Inf), [V(3)]),
        new(typeof(PermuteOp), "transpose of empty", x => x[0].T, [Empty(2, 0)], Empty(0, 2), [Empty(2, 0)]),
        new(typeof(PermuteOp), "NaN moves with its element", x => x[0].T, [T([1, 2], NaN, Inf)], T([2, 1], NaN, Inf), [T([1, 2], 1, 1)]),
        new(typeof(GatherOp), "empty index", x => x[0].Gather(1, EmptyRowIndex), [T([2, 2], NaN, 1, 2, Inf)], Empty(2, 0), [Full([2, 2], 0)]),
        new(typeof(IndexSelectOp), "empty index", x => x[0].IndexSelect(0, NoIndices), [T([2, 2], NaN, 1, 2, Inf)], Empty(0, 2), [Full([2, 2], 0)]),
        new(typeof(IndexSelectOp), "repeated NaN row", x => x[0].IndexSelect(0, RepeatedRow), [T([2, 1], NaN, 1)], T([2, 1], NaN, NaN), [T([2, 1], 2, 0)]),
        new(typeof(IndexAddOp), "empty index", x => x[0].IndexAdd(0, NoIndices, x[1]), [V(1, Inf), Empty(0)], V(1, Inf), [V(1, 1), Empty(0)]),
        new(typeof(ScatterAddOp), "empty index", x => x[0].ScatterAdd(1, EmptyRowIndex, x[1]), [T([2, 2], 1, 2, NaN, 4), Empty(2, 0)],
            T([2, 2], 1, 2, NaN, 4), [Full([2, 2], 1), Empty(2, 0)]),
        new(typeof(CloneOp), "non-finite values", x => x[0].Clone(), [V(NaN, Inf, -0.0)], V(NaN, Inf, 0), [V(1, 1, 1)]) { Pointwise = true },
        new(typeof(CloneOp), "empty", x => x[0].Clone(), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),
        // float64 → float32 rounds out-of-range values to ±Inf and underflows to 0; NaN stays NaN.
        new(typeof(ConvertOp), "float64 to float32 overflow and underflow", x => x[0].To(DType.Float32), [V(1e39, -1e39, NaN, 1e-46)],
            V(Inf, -Inf, NaN, 0), [V(1, 1, 1, 1)]) { DTypes = [DType.Float64] },
        new(typeof(ConvertOp), "empty", x => x[0].To(DType.Float32), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]) { DTypes = [DType.Float64] },
        new(typeof(ToDeviceOp), "non-finite values", x => ToDeviceOp.Apply(x[0], Device.Cpu), [V(NaN, Inf)], V(NaN, Inf), [V(1, 1)]),

        // ---- Linear algebra ----
        // A product over an empty inner dim is a sum of nothing: zeros (plus the bias).
        new(typeof(MatMulOp), "empty inner dim", x => x[0].MatMul(x[1]), [Empty(2, 0), Empty(0, 3)], Full([2, 3], 0), [Empty(2, 0), Empty(0, 3)]),
        new(typeof(MatMulOp), "empty batch", x => x[0].MatMul(x[1]), [Empty(0, 2), T([2, 1], 1, 2)], Empty(0, 1), [Empty(0, 2), T([2, 1], 0, 0)]),
        // NaN·0 is NaN: a GEMM must not skip zeros.
        new(typeof(MatMulOp), "NaN times zero", x => x[0].MatMul(x[1]), [T([1, 2], NaN, 1), T([2, 1], 0, 1)], T([1, 1], NaN),
            [T([1, 2], 0, 1), T([2, 1], NaN, 1)]),
        new(typeof(LinearOp), "empty features", x => Linear(x[0], x[1], x[2]), [Empty(2, 0), Empty(3, 0), V(1, Inf, NaN)],
            T([2, 3], 1, Inf, NaN, 1, Inf, NaN), [Empty(2, 0), Empty(3, 0), V(2, 2, 2)]),
        new(typeof(LinearOp), "empty batch", x => Linear(x[0], x[1], x[2]), [Empty(0, 2), T([1, 2], 1, 2), V(3)], Empty(0, 1),
            [Empty(0, 2), T([1, 2], 0, 0), V(0)]),

        // torch.linalg: a singular matrix makes Solve, Inv and Cholesky raise; Det is 0 and Slogdet (0, −∞) there.
        new(typeof(SolveOp), "zero right-hand side", x => Linalg.Solve(x[0], x[1]), [T([2, 2], 2, 0, 0, 4), T([2, 1], 0, 0)],
            T([2, 1], 0, 0), [T([2, 2], 0, 0, 0, 0), T([2, 1], 0.5, 0.25)]),
        new(typeof(SolveOp), "singular matrix throws", x => Linalg.Solve(x[0], x[1]), [Full([2, 2], 1), T([2, 1], 1, 2)], null,
            [null, null]) { Throws = typeof(LinalgException) },
        new(typeof(SolveOp), "empty batch", x => Linalg.Solve(x[0], x[1]), [Empty(0, 2, 2), Empty(0, 2, 1)], Empty(0, 2, 1),
            [Empty(0, 2, 2), Empty(0, 2, 1)]),
        // d(A⁻¹) = −A⁻ᵀ·G·A⁻ᵀ: for A = diag(2, 4) and G all ones, −[[1/4, 1/8], [1/8, 1/16]].
        new(typeof(InvOp), "diagonal", x => Linalg.Inv(x[0]), [T([2, 2], 2, 0, 0, 4)], T([2, 2], 0.5, 0, 0, 0.25),
            [T([2, 2], -0.25, -0.125, -0.125, -0.0625)]),
        new(typeof(InvOp), "zero matrix throws", x => Linalg.Inv(x[0]), [Full([2, 2], 0)], null, [null]) { Throws = typeof(LinalgException) },
        new(typeof(InvOp), "empty batch", x => Linalg.Inv(x[0]), [Empty(0, 3, 3)], Empty(0, 3, 3), [Empty(0, 3, 3)]),
        new(typeof(DetOp), "singular matrix is 0", x => Linalg.Det(x[0]), [T([2, 2], 1, 2, 2, 4)], 0.0, [null]),
        // ∂det/∂A = det·A⁻ᵀ: diag(3, 2) for A = diag(2, 3).
        new(typeof(DetOp), "diagonal", x => Linalg.Det(x[0]), [T([2, 2], 2, 0, 0, 3)], 6.0, [T([2, 2], 3, 0, 0, 2)]),
        new(typeof(SlogdetOp), "singular matrix has log|det| −∞", x => Linalg.Slogdet(x[0]).LogAbsDet, [Full([3, 3], 1)], -Inf, [null]),
        new(typeof(SlogdetOp), "singular matrix has sign 0", x => Linalg.Slogdet(x[0]).Sign, [Full([2, 2], 0)], 0.0, [null]),
        // ∂log|det A|/∂A = A⁻ᵀ, whatever the sign.
        new(typeof(SlogdetOp), "negative determinant", x => Linalg.Slogdet(x[0]).LogAbsDet, [T([2, 2], -2, 0, 0, 0.5)], 0.0,
            [T([2, 2], -0.5, 0, 0, 2)]),
        new(typeof(CholeskyOp), "zero matrix throws", x => Linalg.Cholesky(x[0]), [Full([2, 2], 0)], null, [null]) { Throws = typeof(LinalgException) },
        new(typeof(CholeskyOp), "empty batch", x => Linalg.Cholesky(x[0]), [Empty(0, 2, 2)], Empty(0, 2, 2), [Empty(0, 2, 2)]),
        new(typeof(QrOp), "empty batch", x => Linalg.Qr(x[0]).R, [Empty(0, 3, 2)], Empty(0, 2, 2), [Empty(0, 3, 2)]),
        // A zero matrix has R = 0 (and some orthonormal Q).
        new(typeof(QrOp), "zero matrix", x => Linalg.Qr(x[0]).R, [Full([2, 2], 0)], Full([2, 2], 0), [null]),
        // Tied singular values: their sum (the nuclear norm) still has the gradient U·Vᵀ = I at A = 3·I.
        new(typeof(SvdOp), "tied singular values", x => Linalg.Svdvals(x[0]).Sum(), [T([2, 2], 3, 0, 0, 3)], 6.0, [T([2, 2], 1, 0, 0, 1)]),
        new(typeof(SvdOp), "zero matrix", x => Linalg.Svdvals(x[0]), [Full([2, 3], 0)], V(0, 0), [null]),
        // Tied eigenvalues: their sum (the trace) has the gradient V·Vᵀ = I.
        new(typeof(EighOp), "tied eigenvalues", x => Linalg.Eigvalsh(x[0]).Sum(), [T([2, 2], 2, 0, 0, 2)], 4.0, [T([2, 2], 1, 0, 0, 1)]),
        new(typeof(EighOp), "empty batch", x => Linalg.Eigvalsh(x[0]), [Empty(0, 2, 2)], Empty(0, 2), [Empty(0, 2, 2)]),

        // ---- Convolution ----
        new(typeof(Conv2dOp), "empty batch", x => Conv2d(x[0], x[1]), [Empty(0, 1, 2, 2), Full([1, 1, 1, 1], 2)], Empty(0, 1, 2, 2),
            [Empty(0, 1, 2, 2), Full([1, 1, 1, 1], 0)]),
        new(typeof(Conv2dOp), "NaN reaches only its windows", x => Conv2d(x[0], x[1]), [T([1, 1, 1, 3], NaN, 1, 2), Full([1, 1, 1, 2], 1)],
            T([1, 1, 1, 2], NaN, 3), [T([1, 1, 1, 3], 1, 2, 1), T([1, 1, 1, 2], NaN, 3)]),
        new(typeof(ConvTranspose2dOp), "empty batch", x => ConvTranspose2d(x[0], x[1]), [Empty(0, 1, 2, 2), Full([1, 1, 1, 1], 2)],
            Empty(0, 1, 2, 2), [Empty(0, 1, 2, 2), Full([1, 1, 1, 1], 0)]),
        new(typeof(Conv2dWeightGradOp), "empty batch", x => Conv2dWeightGradOp.Apply(x[0], x[1], new Window2d(1, 1, 0, 1), 1),
            [Empty(0, 1, 2, 2), Empty(0, 1, 2, 2)], Full([1, 1, 1, 1], 0), [Empty(0, 1, 2, 2), Empty(0, 1, 2, 2)]),

        // ---- Pooling, upsampling, dropout ----
        // max_pool2d takes the first maximum of a window (a later one must be strictly greater), so ties route the
        // gradient to the first position in row-major order, and a NaN wins its window.
        new(typeof(MaxPool2dOp), "constant window ties", x => MaxPool2d(x[0], 2), [Full([1, 1, 2, 2], 5)], Full([1, 1, 1, 1], 5),
            [T([1, 1, 2, 2], 1, 0, 0, 0)]),
        new(typeof(MaxPool2dOp), "NaN wins its window", x => MaxPool2d(x[0], 2), [T([1, 1, 2, 2], 1, NaN, 3, 2)], Full([1, 1, 1, 1], NaN),
            [T([1, 1, 2, 2], 0, 1, 0, 0)]),
        new(typeof(MaxPool2dOp), "all -Inf window", x => MaxPool2d(x[0], 2), [Full([1, 1, 2, 2], -Inf)], Full([1, 1, 1, 1], -Inf),
            [T([1, 1, 2, 2], 1, 0, 0, 0)]),
        new(typeof(MaxPool2dOp), "empty batch", x => MaxPool2d(x[0], 2), [Empty(0, 1, 2, 2)], Empty(0, 1, 1, 1), [Empty(0, 1, 2, 2)]),
        new(typeof(MaxPool2dBackwardOp), "routes Inf and NaN to the saved positions", x => MaxPool2dBackwardOp.Apply(x[0], PoolPicks, [1, 1, 2, 2]),
            [T([1, 1, 1, 2], Inf, NaN)], T([1, 1, 2, 2], 0, 0, Inf, NaN), [T([1, 1, 1, 2], 1, 1)]),
        new(typeof(AvgPool2dOp), "opposite infinities", x => AvgPool2d(x[0], 2), [T([1, 1, 2, 2], Inf, -Inf, 1, 2)], Full([1, 1, 1, 1], NaN),
            [Full([1, 1, 2, 2], 0.25)]),
        new(typeof(AvgPool2dOp), "constant input", x => AvgPool2d(x[0], 2), [Full([1, 1, 2, 4], 3)], Full([1, 1, 1, 2], 3),
            [Full([1, 1, 2, 4], 0.25)]),
        new(typeof(AvgPool2dOp), "empty batch", x => AvgPool2d(x[0], 2), [Empty(0, 2, 2, 2)], Empty(0, 2, 1, 1), [Empty(0, 2, 2, 2)]),
        new(typeof(AvgPool2dBackwardOp), "spreads Inf over its window", x => AvgPool2dBackwardOp.Apply(x[0], new Window2d(2, 2, 0, 1), true, [1, 1, 2, 2]),
            [Full([1, 1, 1, 1], Inf)], Full([1, 1, 2, 2], Inf), [Full([1, 1, 1, 1], 1)]),
        new(typeof(UpsampleNearest2dOp), "non-finite values", x => Upsample(x[0], scaleFactor: 2), [T([1, 1, 1, 2], NaN, -Inf)],
            T([1, 1, 2, 4], NaN, NaN, -Inf, -Inf, NaN, NaN, -Inf, -Inf), [T([1, 1, 1, 2], 4, 4)]),
        new(typeof(UpsampleNearest2dOp), "empty batch", x => Upsample(x[0], scaleFactor: 2), [Empty(0, 1, 1, 2)], Empty(0, 1, 2, 4), [Empty(0, 1, 1, 2)]),
        // dropout with p = 1 multiplies by 0 (PyTorch's `input * zeros`), so Inf and NaN become NaN; the gradient is 0.
        new(typeof(Dropout2dOp), "p = 1", x => Dropout2d(x[0], 1.0, generator: new Generator(1)), [T([1, 2, 1, 1], Inf, 3)],
            T([1, 2, 1, 1], NaN, 0), [T([1, 2, 1, 1], 0, 0)]),
        new(typeof(Dropout2dOp), "empty batch", x => Dropout2d(x[0], 0.5, generator: new Generator(1)), [Empty(0, 2, 1, 1)], Empty(0, 2, 1, 1),
            [Empty(0, 2, 1, 1)]),

        // ---- Fused losses and normalisation (rows for behaviour that holds today; see the report) ----
        // Cross-entropy over log-softmax: a −Inf logit in a non-target class costs nothing and gets gradient 0.
        new(typeof(CrossEntropyOp), "-Inf logit of another class", x => CrossEntropy(x[0], TargetZero), [T([1, 2], 0, -Inf)], 0.0,
            [T([1, 2], 0, 0)]),
        // A mean over no samples is 0/0 = NaN, as PyTorch's cross_entropy gives for an empty batch.
        new(typeof(CrossEntropyOp), "empty batch is NaN", x => CrossEntropy(x[0], NoTargets), [Empty(0, 3)], NaN, [Empty(0, 3)]),
        new(typeof(CrossEntropyOp), "constant logits", x => CrossEntropy(x[0], TargetZero), [Full([1, 4], 2)], Math.Log(4),
            [T([1, 4], -0.75, 0.25, 0.25, 0.25)]),
        // BCELoss clamps log terms at −100 (documented); the gradient divides by max(p(1 − p), 1e-12).
        new(typeof(BinaryCrossEntropyOp), "probabilities 0 and 1", x => BinaryCrossEntropy(x[0], x[1], reduction: Backprop.Nn.Reduction.Sum),
            [V(0, 1, 0, 1), V(0, 1, 1, 0)], 200.0, [V(0, 0, -1e12, 1e12), null]) { Float32Tolerance = 1e-5 },
        // l1_loss_backward is g·sgn(input − target): 0 where they are equal.
        new(typeof(AbsoluteErrorLossOp), "L1 at zero difference", x => L1Loss(x[0], x[1], Backprop.Nn.Reduction.Sum), [V(1, 2), V(1, 0)], 2.0,
            [V(0, 1), V(0, -1)]),
        // Huber's slope is clamp(d, −δ, δ): continuous, δ at the boundary.
        new(typeof(AbsoluteErrorLossOp), "Huber at the boundary", x => HuberLoss(x[0], x[1], Backprop.Nn.Reduction.Sum, delta: 1.0),
            [V(1, -1, 0), V(0, 0, 0)], 1.0, [V(1, -1, 0), null]),
        // The mean of a constant row is the constant exactly (float64 sum divided before rounding), so x − μ is 0.
        new(typeof(NormalizeOp), "LayerNorm of large constant rows", x => LayerNorm(x[0], [3]), [T([2, 3], 1000.1, 1000.1, 1000.1, 12345.678, 12345.678, 12345.678)],
            Full([2, 3], 0), [Full([2, 3], 0)]),
        new(typeof(NormalizeOp), "LayerNorm of a small constant row", x => LayerNorm(x[0], [4]), [Full([1, 4], 2)], Full([1, 4], 0),
            [Full([1, 4], 0)]),
        // The r = (σ² + ε)^−½ a normalisation saves for its double backward: 1/√ε for a constant row, slope −r²·x̂/n = 0.
        new(typeof(NormalizeOp.InverseStdOp), "constant row", x => NormalizeOp.InverseStdOf(x[0], [false, true], 1e-5), [Full([1, 4], 2)],
            T([1, 1], 1 / Math.Sqrt(1e-5)), [Full([1, 4], 0)]),
    ];

    private static readonly Tensor Pattern = Tensor.FromArray(new long[] { 1, 0, 1, 0 }, 4);
    private static readonly Tensor NoCondition = Tensor.FromArray(Array.Empty<long>(), 2, 0);
    private static readonly Tensor EmptyRowIndex = Tensor.FromArray(Array.Empty<long>(), 2, 0);
    private static readonly Tensor RepeatedRow = Tensor.FromArray(new long[] { 0, 0 }, 2);
    private static readonly Tensor PoolPicks = Tensor.FromArray(new long[] { 2, 3 }, 1, 1, 1, 2);
    private static readonly Tensor NoTargets = Tensor.FromArray(Array.Empty<long>(), 0);
    private static readonly Tensor TargetZero = Tensor.FromArray(new long[] { 0 }, 1);

    private static double SpecialErf(double x) => Backprop.Backends.Cpu.SpecialFunctions.Erf(x);

    public static TheoryData<string, string, bool> Cases()
    {
        var data = new TheoryData<string, string, bool>();
        foreach (var row in Rows)
            foreach (var dtype in row.DTypes)
            {
                data.Add(row.Name, dtype.DisplayName(), false);
                if (row.Pointwise) data.Add(row.Name, dtype.DisplayName(), true);
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Op_matches_PyTorch_at_edge_values(string name, string dtypeName, bool tiled)
    {
        var row = Rows.Single(r => r.Name == name);
        var dtype = row.DTypes.Single(d => d.DisplayName() == dtypeName);
        // Tiled 37 times, a row fills whole vectors of every width and leaves a scalar tail.
        const int tiles = 37;
        EdgeTensor Prepare(EdgeTensor t) => tiled ? t.Tiled(tiles) : t;
        var tolerance = (dtype == DType.Float32 ? row.Float32Tolerance : row.Float64Tolerance, row.AbsoluteFloor);

        var inputs = row.Inputs.Select((spec, i) =>
        {
            var t = Prepare(spec).ToTensor(dtype).Detach();
            t.RequiresGrad = row.Gradients[i] is not null;
            return t;
        }).ToArray();

        if (row.Throws is { } expectedException)
        {
            var thrown = Record.Exception(() => row.Function(inputs));
            Assert.True(thrown is not null && expectedException.IsInstanceOfType(thrown),
                $"{name}: expected {expectedException.Name}, got {thrown?.GetType().Name ?? "no exception"}");
            return;
        }

        var output = row.Function(inputs);
        AssertClose($"{name} [{dtypeName}{(tiled ? ", tiled" : "")}] value", Prepare(row.Value!), output, tolerance);

        var differentiable = inputs.Where(t => t.RequiresGrad).ToArray();
        if (differentiable.Length == 0) return;
        Assert.True(RecordsOp(output, row.Op), $"{name}: the graph of the output has no {row.Op.Name} node.");
        var upstream = row.Upstream is { } u ? Prepare(u).ToTensor(output.DType) : Tensor.OnesLike(output);
        var grads = Autograd.Grad([output], differentiable, [upstream], allowUnused: true);
        int k = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            if (row.Gradients[i] is not { } expected) continue;
            var grad = grads[k++] ?? Tensor.ZerosLike(inputs[i]);
            AssertClose($"{name} [{dtypeName}{(tiled ? ", tiled" : "")}] gradient of input {i}", Prepare(expected), grad, tolerance);
        }
    }

    [Fact]
    public void Every_op_class_has_an_edge_row()
    {
        var covered = Rows.Select(r => r.Op).ToHashSet();
        var missing = GradcheckCatalog.OpTypes.Where(t => !covered.Contains(t)).Select(t => t.Name).OrderBy(n => n).ToList();
        Assert.True(missing.Count == 0, "Op classes without an edge-value row: " + string.Join(", ", missing));
    }

    [Fact]
    public void Row_names_are_unique_and_rows_are_well_formed()
    {
        Assert.Equal(Rows.Count, Rows.Select(r => r.Name).Distinct().Count());
        foreach (var row in Rows)
        {
            Assert.True(row.Inputs.Length == row.Gradients.Length, $"{row.Name}: one gradient (or null) per input");
            Assert.True(row.Throws is not null || row.Value is not null, $"{row.Name}: a value or an exception");
            foreach (var (input, grad) in row.Inputs.Zip(row.Gradients))
                Assert.True(grad is null || grad.Shape.SequenceEqual(input.Shape), $"{row.Name}: a gradient has its input's shape");
            if (row.Pointwise)
                Assert.True(row.Inputs.All(i => i.Shape.Length == 1 && i.Shape[0] == row.Value!.Shape[0]) && row.Value!.Shape.Length == 1,
                    $"{row.Name}: a pointwise row has equal 1-D inputs and output");
        }
    }

    /// <summary>The backward formulas changed for edge values (masks by Where) checked to second order in the interior.</summary>
    public static TheoryData<string> FixedBackwards() => new(SecondOrderCases.Keys);

    private static readonly Dictionary<string, (Func<Tensor[], Tensor> Function, GradcheckInput[] Inputs)> SecondOrderCases = new()
    {
        ["Pow scalar exponent"] = (x => x[0].Pow(3), [[5]]),
        ["Pow tensor exponent"] = (x => Tensor.Pow(x[0], x[1]), [GradcheckInput.Positive(5), [5]]),
        ["Div"] = (x => x[0] / x[1], [[5], GradcheckInput.NonZero(5)]),
        ["Maximum"] = (x => Tensor.Maximum(x[0], x[1]) * x[0], [[5], [5]]),
        ["Max dim"] = (x => x[0].Max(1) * x[0].Sum(1), [[2, 3]]),
        ["Relu"] = (x => x[0].Relu() * x[0], [GradcheckInput.NonZero(5)]),
        ["Elu"] = (x => x[0].Elu(), [GradcheckInput.NonZero(5)]),
        ["Gelu"] = (x => x[0].Gelu(), [[5]]),
    };

    [Theory]
    [MemberData(nameof(FixedBackwards))]
    public void Fixed_backward_is_twice_differentiable(string name)
    {
        var (function, specs) = SecondOrderCases[name];
        var generator = new Generator(5);
        var inputs = specs.Select(spec => Gradcheck.MakeInput(spec, generator)).ToArray();
        var result = Gradgradcheck.Check(function, inputs);
        Assert.True(result.Passed, $"{name}: {result}");
    }

    [Fact]
    public void Table_covers_every_kind_of_edge_value()
    {
        var values = Rows.SelectMany(r => r.Inputs).SelectMany(i => i.Values).ToList();
        Assert.Contains(values, double.IsNaN);
        Assert.Contains(values, double.IsPositiveInfinity);
        Assert.Contains(values, double.IsNegativeInfinity);
        Assert.Contains(values, v => v == 0);
        Assert.Contains(Rows, r => r.Inputs.Any(i => i.Shape.SequenceEqual([0])));
        Assert.Contains(Rows, r => r.Inputs.Any(i => i.Shape.SequenceEqual([2, 0])));
    }

    [Fact]
    public void Comparison_fails_on_a_wrong_value()
    {
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertClose("probe", V(1, NaN), Tensor.FromArray(new[] { 1.0, 0.0 }), (1e-12, 1)));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertClose("probe", V(Inf), Tensor.FromArray(new[] { 1e308 }), (1e-12, 1)));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertClose("probe", V(1), Tensor.FromArray(new[] { 1.0 + 1e-9 }), (1e-12, 1)));
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertClose("probe", Empty(2, 0), Tensor.FromArray(Array.Empty<double>(), 0), (1e-12, 1)));
        AssertClose("probe", V(NaN, Inf, -Inf, 1), Tensor.FromArray(new[] { NaN, Inf, -Inf, 1.0 }), (1e-12, 1));
    }

    /// <summary>True where a node of <paramref name="op"/> is reachable from the output's backward graph.</summary>
    private static bool RecordsOp(Tensor output, Type op)
    {
        var seen = new HashSet<Node>();
        var pending = new Stack<Node>();
        if (output.GradFn is { } root) pending.Push(root);
        while (pending.TryPop(out var node))
        {
            if (!seen.Add(node)) continue;
            if (node.GetType() == op) return true;
            foreach (var next in node.NextFunctions)
                if (next is not null) pending.Push(next);
        }
        return false;
    }

    /// <summary>Same shape, and every element equal in the table's sense: NaN matches NaN, an infinity only itself,
    /// and a finite value within relative·max(floor, |expected|): a relative bound, absolute below |expected| = floor.</summary>
    private static void AssertClose(string what, EdgeTensor expected, Tensor actual, (double Relative, double Floor) tolerance)
    {
        Assert.True(expected.Shape.SequenceEqual(actual.Sizes), $"{what}: shape {actual.Shape}, expected {expected}");
        double[] values;
        using (Autograd.NoGrad()) values = actual.Detach().To(DType.Float64).Contiguous().ToArray<double>();
        for (int i = 0; i < values.Length; i++)
        {
            double e = expected.Values[i], a = values[i];
            bool ok = double.IsNaN(e) ? double.IsNaN(a)
                : double.IsInfinity(e) ? a == e
                : double.IsFinite(a) && Math.Abs(a - e) <= tolerance.Relative * Math.Max(tolerance.Floor, Math.Abs(e));
            Assert.True(ok, $"{what}: element {i} is {a:R}, expected {e:R} (first values: [{string.Join(", ", values.Take(12).Select(v => v.ToString("G6")))}])");
        }
    }
}
