using Backprop.Ops;

namespace Backprop;

public partial class Tensor
{
    public Tensor Neg() => NegOp.Apply(this);
    public Tensor Exp() => ExpOp.Apply(this);
    public Tensor Log() => LogOp.Apply(this);
    public Tensor Sqrt() => SqrtOp.Apply(this);
    public Tensor Abs() => AbsOp.Apply(this);
    public Tensor Sin() => SinOp.Apply(this);
    public Tensor Cos() => CosOp.Apply(this);
    public Tensor Erf() => ErfOp.Apply(this);
    public Tensor Log1p() => Log1pOp.Apply(this);
    public Tensor Square() => Pow(2);
    public Tensor Reciprocal() => 1.0 / this;

    /// <summary>thisᵉˣᵖᵒⁿᵉⁿᵗ element-wise.</summary>
    public Tensor Pow(double exponent) => Pow(this, ScalarLike(exponent));

    public Tensor Pow(Tensor exponent) => Pow(this, exponent);

    /// <summary>Limits values to [min, max]; the gradient is passed where min ≤ x ≤ max and is zero elsewhere.</summary>
    public Tensor Clamp(double? min = null, double? max = null) =>
        ClampOp.Apply(this, min ?? double.NegativeInfinity, max ?? double.PositiveInfinity);

    /// <summary>−1, 0 or 1 by sign (NaN stays NaN; int64 stays int64). Piecewise constant: its gradient is zero.</summary>
    public Tensor Sign() => PiecewiseConstantOp.Apply(this, UnaryOp.Sign);

    /// <summary>Rounds down (integers are returned unchanged, in their dtype). Its gradient is zero.</summary>
    public Tensor Floor() => PiecewiseConstantOp.Apply(this, UnaryOp.Floor);

    /// <summary>Rounds up (integers are returned unchanged, in their dtype). Its gradient is zero.</summary>
    public Tensor Ceil() => PiecewiseConstantOp.Apply(this, UnaryOp.Ceil);

    /// <summary>
    /// Rounds to <paramref name="decimals"/> decimal places (negative: to tens, hundreds, …), halves to even, as
    /// torch.round: round(x·10ᵈ)/10ᵈ in the tensor's dtype, so Round(2.675, 2) is 2.68 (2.675·100 rounds to 267.5)
    /// as in torch and NumPy, where Python's decimal-exact round gives 2.67.
    /// Its gradient is zero.
    /// </summary>
    public Tensor Round(int decimals = 0) => PiecewiseConstantOp.Apply(this, UnaryOp.Round, decimals);

    /// <summary>1 where x &gt; 0 else 0: the derivative of ReLU, taking ReLU′(0) = 0. No gradient.</summary>
    public Tensor Step() => Kernels.Unary(UnaryOp.Step, this);

    /// <summary>Element-wise test for NaN, as 1/0 in this tensor's dtype.</summary>
    public Tensor IsNaN() => Ne(this);
}
