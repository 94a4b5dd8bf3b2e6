using Backprop.Ops;

namespace Backprop.Tests.Ops;

/// <summary>Edge rows of the element-wise math ops (Tensor.Math.cs and the piecewise-constant Sign/Floor/Ceil/Round/Trunc).</summary>
public partial class EdgeValueTests
{
    private const double ErfinvOfHalf = 0.47693627620446987338; // the "probable error" constant ρ, erf(ρ) = ½
    private const double HalfSqrtPi = 0.88622692545275801365; // √π/2 (a constant: Rows is built before static fields of other parts)

    private static IEnumerable<EdgeRow> MathRows =>
    [
        // ---- Trigonometric and hyperbolic ----
        // tan′ = 1 + tan² from the saved output.
        new(typeof(TanOp), "zero, infinity, NaN", x => x[0].Tan(), [V(0, 1, Inf, -Inf, NaN)], V(0, Math.Tan(1), NaN, NaN, NaN),
            [V(1, 1 + Math.Tan(1) * Math.Tan(1), NaN, NaN, NaN)]) { Pointwise = true },
        // atan′ = 1/(1 + x²): 0 at ±Inf, where atan is ±π/2.
        new(typeof(AtanOp), "zero, infinities, NaN", x => x[0].Atan(), [V(0, 1, Inf, -Inf, NaN)], V(0, Math.PI / 4, Math.PI / 2, -Math.PI / 2, NaN),
            [V(1, 0.5, 0, 0, NaN)]) { Pointwise = true },
        // asin′ = (1 − x²)^−½ (PyTorch's rsqrt): +Inf at ±1, NaN outside the domain.
        new(typeof(AsinOp), "ends of the domain and beyond", x => x[0].Asin(), [V(0, 1, -1, 2, -Inf, NaN)], V(0, Math.PI / 2, -Math.PI / 2, NaN, NaN, NaN),
            [V(1, Inf, Inf, NaN, NaN, NaN)]) { Pointwise = true },
        new(typeof(AcosOp), "ends of the domain and beyond", x => x[0].Acos(), [V(0, 1, -1, 2, Inf, NaN)], V(Math.PI / 2, 0, Math.PI, NaN, NaN, NaN),
            [V(-1, -Inf, -Inf, NaN, NaN, NaN)]) { Pointwise = true },
        new(typeof(SinhOp), "zero, infinities, NaN", x => x[0].Sinh(), [V(0, 1, Inf, -Inf, NaN)], V(0, Math.Sinh(1), Inf, -Inf, NaN),
            [V(1, Math.Cosh(1), Inf, Inf, NaN)]) { Pointwise = true },
        new(typeof(CoshOp), "zero, infinities, NaN", x => x[0].Cosh(), [V(0, -1, Inf, -Inf, NaN)], V(1, Math.Cosh(1), Inf, Inf, NaN),
            [V(0, -Math.Sinh(1), Inf, -Inf, NaN)]) { Pointwise = true },

        // ---- Exponential and special ----
        // expm1′ = y + 1 from the saved output: 0 at −Inf (y = −1).
        new(typeof(Expm1Op), "zero, infinities, NaN", x => x[0].Expm1(), [V(0, 1, Inf, -Inf, NaN)], V(0, Math.E - 1, Inf, -1, NaN),
            [V(1, Math.E, Inf, 0, NaN)]) { Pointwise = true },
        // The point of expm1: eˣ − 1 keeps its relative precision for tiny x (exp(x) − 1 would give 0 or 1 digit).
        new(typeof(Expm1Op), "tiny inputs keep their digits", x => x[0].Expm1(), [V(1e-10, -1e-10, 1e-30)],
            V(1e-10 + 5e-21, -1e-10 + 5e-21, 1e-30), [V(1 + 1e-10, 1 - 1e-10, 1)]) { Pointwise = true, AbsoluteFloor = 0 },
        // The kernel was log(1 + x), which returned 1.00000008e−10 for 1e−10; log1p′ = 1/(1 + x).
        new(typeof(Log1pOp), "tiny inputs keep their digits", x => x[0].Log1p(), [V(1e-10, -1e-10, 1e-30)],
            V(1e-10 - 5e-21, -1e-10 - 5e-21, 1e-30), [V(1 / (1 + 1e-10), 1 / (1 - 1e-10), 1)]) { Pointwise = true, AbsoluteFloor = 0 },
        // erfinv: ±Inf at ±1, NaN outside [−1, 1]; its gradient (√π/2)·exp(erfinv(x)²) is +Inf at ±1.
        new(typeof(ErfinvOp), "zero, ends of the domain, beyond, NaN", x => x[0].Erfinv(), [V(0, 0.5, -0.5, 1, -1, 1.5, -Inf, NaN)],
            V(0, ErfinvOfHalf, -ErfinvOfHalf, Inf, -Inf, NaN, NaN, NaN),
            [V(HalfSqrtPi, HalfSqrtPi * Math.Exp(ErfinvOfHalf * ErfinvOfHalf), HalfSqrtPi * Math.Exp(ErfinvOfHalf * ErfinvOfHalf), Inf, Inf, NaN, NaN, NaN)])
            { Pointwise = true },

        // ---- Piecewise constant: PyTorch's derivatives.yaml gives zeros_like(grad), even at the jumps and at NaN ----
        new(typeof(PiecewiseConstantOp), "Sign at zeros, infinities, NaN", x => x[0].Sign(), [V(-2, -0.0, 0, 3, Inf, -Inf, NaN)],
            V(-1, 0, 0, 1, 1, -1, NaN), [V(0, 0, 0, 0, 0, 0, 0)]) { Pointwise = true },
        new(typeof(PiecewiseConstantOp), "Floor at halves, infinities, NaN", x => x[0].Floor(), [V(-1.5, -0.5, 0.5, 2, Inf, -Inf, NaN)],
            V(-2, -1, 0, 2, Inf, -Inf, NaN), [V(0, 0, 0, 0, 0, 0, 0)]) { Pointwise = true },
        new(typeof(PiecewiseConstantOp), "Ceil at halves, infinities, NaN", x => x[0].Ceil(), [V(-1.5, -0.5, 0.5, 2, Inf, -Inf, NaN)],
            V(-1, 0, 1, 2, Inf, -Inf, NaN), [V(0, 0, 0, 0, 0, 0, 0)]) { Pointwise = true },
        // torch.round rounds halves to even.
        new(typeof(PiecewiseConstantOp), "Round halves to even", x => x[0].Round(), [V(0.5, 1.5, 2.5, -0.5, -2.5, 2.51, Inf, NaN)],
            V(0, 2, 2, 0, -2, 3, Inf, NaN), [V(0, 0, 0, 0, 0, 0, 0, 0)]) { Pointwise = true },
        // round(x·10)/10 with x·10 exact for these inputs: 2.5 → 2 and 7.5 → 8, halves to even.
        new(typeof(PiecewiseConstantOp), "Round to 1 decimal halves to even", x => x[0].Round(decimals: 1), [V(0.25, 0.75, -0.25, 1.04, Inf, NaN)],
            V(0.2, 0.8, -0.2, 1.0, Inf, NaN), [V(0, 0, 0, 0, 0, 0)]) { Pointwise = true },
        new(typeof(PiecewiseConstantOp), "Round to tens halves to even", x => x[0].Round(decimals: -1), [V(25, 35, 15, -25, 1234, -Inf)],
            V(20, 40, 20, -20, 1230, -Inf), [V(0, 0, 0, 0, 0, 0)]) { Pointwise = true },
        new(typeof(PiecewiseConstantOp), "Trunc toward zero", x => x[0].Trunc(), [V(-1.7, 1.7, -0.5, Inf, -Inf, NaN)],
            V(-1, 1, 0, Inf, -Inf, NaN), [V(0, 0, 0, 0, 0, 0)]) { Pointwise = true },
        new(typeof(PiecewiseConstantOp), "Floor empty", x => x[0].Floor(), [Empty(2, 0)], Empty(2, 0), [Empty(2, 0)]),

        // ---- Binary ----
        // atan2_backward: (b, −a)/(a² + b²), unmasked, so NaN at the origin in PyTorch (the angle has no limit there).
        // atan2(±0, −1) = ±π: the sign of zero picks the side of the branch cut.
        new(typeof(Atan2Op), "origin, axes and the branch cut", x => Tensor.Atan2(x[0], x[1]),
            [V(0, 1, 0, -0.0, 1, -2), V(0, 0, -1, -1, 1, 0)], V(0, Math.PI / 2, Math.PI, -Math.PI, Math.PI / 4, -Math.PI / 2),
            [V(NaN, 0, -1, -1, 0.5, 0), V(NaN, -1, 0, 0, -0.5, 0.5)]) { Pointwise = true },
        // At infinite inputs PyTorch's formula is ∞·0 = NaN where the slopes' limits are 0, so only values are pinned here.
        new(typeof(Atan2Op), "infinities and NaN (values)", x => Tensor.Atan2(x[0], x[1]),
            [V(Inf, 1, 1, -Inf, Inf, NaN, 1), V(Inf, Inf, -Inf, 1, -Inf, 1, NaN)],
            V(Math.PI / 4, 0, Math.PI, -Math.PI / 2, 3 * Math.PI / 4, NaN, NaN), [null, null]) { Pointwise = true },
        // hypot′ = (a, b)/h: 0/0 = NaN at the origin, as PyTorch (the cone has no derivative at its tip).
        new(typeof(HypotOp), "origin and signs", x => Tensor.Hypot(x[0], x[1]), [V(0, 3, -3, 0, -0.0), V(0, 4, 4, -2, 5)], V(0, 5, 5, 2, 5),
            [V(NaN, 0.6, -0.6, 0, 0), V(NaN, 0.8, 0.8, -1, 1)]) { Pointwise = true },
        // IEEE hypot: an infinite leg gives +Inf even beside a NaN. Only values: the slopes there are ∞/∞ in PyTorch.
        new(typeof(HypotOp), "infinities and NaN (values)", x => Tensor.Hypot(x[0], x[1]), [V(Inf, -Inf, NaN, NaN, 1), V(1, NaN, Inf, 1, -Inf)],
            V(Inf, Inf, Inf, NaN, Inf), [null, null]) { Pointwise = true },
        new(typeof(HypotOp), "no overflow in the squares (float64)", x => Tensor.Hypot(x[0], x[1]), [V(3e300, 1e-300), V(4e300, 0)],
            V(5e300, 1e-300), [V(0.6, 1), V(0.8, 0)]) { DTypes = [DType.Float64], AbsoluteFloor = 0 },
        new(typeof(HypotOp), "no overflow in the squares (float32)", x => Tensor.Hypot(x[0], x[1]), [V(3e30, 1e-30), V(4e30, 0)],
            V(5e30, 1e-30), [V(0.6, 1), V(0.8, 0)]) { DTypes = [DType.Float32], AbsoluteFloor = 0 },
        // remainder takes the divisor's sign; ∂/∂b = −(a // b) with PyTorch's floor division: a/b at b = 0, and
        // −5 // ∞ = −1, so −5 mod ∞ = ∞ (Python's value too).
        new(typeof(RemainderOp), "Remainder signs, zero divisor, infinities", x => Tensor.Remainder(x[0], x[1]),
            [V(5, -5, 5, -5, 5.5, 0, 1, Inf, 5, -5, NaN), V(3, 3, -3, -3, 2, 3, 0, 2, Inf, Inf, 1)],
            V(2, 1, -1, -2, 1.5, 0, NaN, NaN, 5, Inf, NaN),
            [V(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1), V(-1, 2, 2, -1, -2, 0, -Inf, NaN, 0, 1, NaN)]) { Pointwise = true },
        // fmod takes the dividend's sign; ∂/∂b = −trunc(a/b).
        new(typeof(RemainderOp), "Fmod signs, zero divisor, infinities", x => Tensor.Fmod(x[0], x[1]),
            [V(5, -5, 5, -5, 1, Inf, 5, -5), V(3, 3, -3, -3, 0, 2, Inf, Inf)], V(2, -2, 2, -2, NaN, NaN, 5, -5),
            [V(1, 1, 1, 1, 1, 1, 1, 1), V(-1, 1, 1, -1, -Inf, -Inf, 0, 0)]) { Pointwise = true },
        // lerp: exact at w = 0 and w = 1 (PyTorch evaluates from the nearer end); w·∞ and 0·∞ are NaN as in PyTorch.
        new(typeof(LerpOp), "weights 0, ½, 1, 2 and infinities", x => Tensor.Lerp(x[0], x[1], x[2]),
            [V(0, 1, 0, -Inf, 1, NaN, 2), V(10, 1, 10, 1, Inf, 1, 4), V(0.25, 0.5, 1, 0.5, 0, 0.5, 2)],
            V(2.5, 1, 10, -Inf, NaN, NaN, 6),
            [V(0.75, 0.5, 0, 0.5, 1, 0.5, -1), V(0.25, 0.5, 1, 0.5, 0, 0.5, 2), V(10, 0, 10, Inf, Inf, NaN, 2)]) { Pointwise = true },
        new(typeof(LerpOp), "scalar weight", x => x[0].Lerp(x[1], 0.25), [V(0, Inf, 4), V(8, 0, NaN)], V(2, NaN, NaN),
            [V(0.75, 0.75, 0.75), V(0.25, 0.25, 0.25)]) { Pointwise = true },
    ];
}
