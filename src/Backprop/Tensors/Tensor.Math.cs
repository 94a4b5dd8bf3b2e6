using Backprop.Ops;

namespace Backprop;

/// <summary>Element-wise math: inverse and hyperbolic trigonometry, erfinv, expm1, trunc, atan2, hypot, remainders, lerp.</summary>
public partial class Tensor
{
    public Tensor Tan() => TanOp.Apply(this);
    public Tensor Atan() => AtanOp.Apply(this);

    /// <summary>arcsin, NaN outside [−1, 1].</summary>
    public Tensor Asin() => AsinOp.Apply(this);

    /// <summary>arccos, NaN outside [−1, 1].</summary>
    public Tensor Acos() => AcosOp.Apply(this);

    public Tensor Sinh() => SinhOp.Apply(this);
    public Tensor Cosh() => CoshOp.Apply(this);

    /// <summary>eˣ − 1, accurate for small x.</summary>
    public Tensor Expm1() => Expm1Op.Apply(this);

    /// <summary>The inverse error function: erfinv(erf(x)) = x; ±∞ at ±1 and NaN outside [−1, 1].</summary>
    public Tensor Erfinv() => ErfinvOp.Apply(this);

    /// <summary>Rounds toward zero (integers are returned unchanged, in their dtype). Its gradient is zero.</summary>
    public Tensor Trunc() => PiecewiseConstantOp.Apply(this, UnaryOp.Trunc);

    /// <summary>
    /// The element-wise angle of the point (x = <paramref name="other"/>, y = <paramref name="input"/>) in [−π, π], as
    /// torch.atan2(input, other); broadcasts.
    /// </summary>
    public static Tensor Atan2(Tensor input, Tensor other)
    {
        (input, other) = FloatOperands(input, other, "Atan2");
        return Atan2Op.Apply(input, other);
    }

    /// <summary>√(a² + b²) element-wise, without overflow in the squares; broadcasts.</summary>
    public static Tensor Hypot(Tensor a, Tensor b)
    {
        (a, b) = FloatOperands(a, b, "Hypot");
        return HypotOp.Apply(a, b);
    }

    /// <summary>
    /// a − ⌊a/b⌋·b element-wise, with the sign of the divisor b (Python's %, torch.remainder); broadcasts. Float:
    /// NaN where b = 0. Int64: exact, and a zero divisor throws <see cref="DivideByZeroException"/>.
    /// </summary>
    public static Tensor Remainder(Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Remainder");
        return RemainderOp.Apply(a, b, truncated: false);
    }

    public Tensor Remainder(double divisor) => Remainder(this, ScalarLike(divisor));

    /// <summary>Python's and PyTorch's %: <see cref="Remainder(Tensor, Tensor)"/>, with the sign of the divisor.</summary>
    public static Tensor operator %(Tensor a, Tensor b) => Remainder(a, b);
    public static Tensor operator %(Tensor a, double b) => Remainder(a, a.ScalarLike(b));
    public static Tensor operator %(double a, Tensor b) => Remainder(b.ScalarLike(a), b);

    /// <summary>
    /// a − trunc(a/b)·b element-wise, with the sign of the dividend a (C's fmod, torch.fmod); broadcasts. Float: NaN
    /// where b = 0. Int64: exact, and a zero divisor throws <see cref="DivideByZeroException"/>.
    /// </summary>
    public static Tensor Fmod(Tensor a, Tensor b)
    {
        (a, b) = Broadcast(a, b, "Fmod");
        return RemainderOp.Apply(a, b, truncated: true);
    }

    public Tensor Fmod(double divisor) => Fmod(this, ScalarLike(divisor));

    /// <summary>
    /// start + weight·(end − start), broadcasting all three, as torch.lerp: exact at weight 0 and 1. Start, end and
    /// weight must share one floating-point dtype (PyTorch's rule too). Gradients flow to all three.
    /// </summary>
    public static Tensor Lerp(Tensor start, Tensor end, Tensor weight)
    {
        if (start.DType != end.DType || start.DType != weight.DType || !start.DType.IsFloatingPoint())
            throw new ArgumentException($"Lerp: start, end and weight must share one floating-point dtype; got {start.DType.DisplayName()} " +
                $"{Shape.Format(start.Sizes)}, {end.DType.DisplayName()} {Shape.Format(end.Sizes)} and {weight.DType.DisplayName()} {Shape.Format(weight.Sizes)}.");
        if (start.Device != end.Device || start.Device != weight.Device)
            throw new ArgumentException($"Lerp: start, end and weight are on different devices ({start.Device}, {end.Device}, {weight.Device}).");
        var shape = Shape.Broadcast(Shape.Broadcast(start.Shape, end.Shape, "Lerp"), weight.Shape, "Lerp").Dims;
        weight = weight.Rank == 0 && !weight.RequiresGrad && !ForwardAD.HasTangent(weight) ? SpreadScalar(weight, shape) : weight.ExpandTo(shape);
        return LerpOp.Apply(start.ExpandTo(shape), end.ExpandTo(shape), weight);
    }

    /// <summary>this + weight·(end − this), as torch.lerp(input, end, weight); see <see cref="Lerp(Tensor, Tensor, Tensor)"/>.</summary>
    public Tensor Lerp(Tensor end, Tensor weight) => Lerp(this, end, weight);

    /// <summary>this + weight·(end − this) with a constant weight (no gradient).</summary>
    public Tensor Lerp(Tensor end, double weight) => Lerp(this, end, ScalarLike(weight));

    private static (Tensor, Tensor) FloatOperands(Tensor a, Tensor b, string op)
    {
        (a, b) = Broadcast(a, b, op);
        if (!a.DType.IsFloatingPoint())
            throw new NotSupportedException($"{op} needs floating-point tensors; got {a.DType.DisplayName()} {Shape.Format(a.Sizes)}. " +
                "Convert them with .To(DType.Float32) first.");
        return (a, b);
    }
}
