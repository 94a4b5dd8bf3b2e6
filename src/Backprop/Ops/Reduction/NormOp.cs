using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// The vector p-norm over some dims (torch.linalg.vector_norm): (Σ|x|ᵖ)^(1/p), with p = 0 counting the nonzeros and
/// p = ±∞ the largest and smallest |x|. The backward is PyTorch's norm_backward, written with tensor ops (so it is
/// itself differentiable): 0 at a zero norm for p ≥ 1, 0 at zero elements for p &lt; 1, and for p = ±∞ the gradient
/// shared evenly among the elements whose |x| equals the norm.
/// </summary>
internal sealed class NormOp : Node, IGradchecked
{
    private readonly double _p;
    private readonly int[] _keptSizes;

    private NormOp(Tensor x, double p, int[] keptSizes, Tensor y) : base(x)
    {
        _p = p;
        _keptSizes = keptSizes;
        Save(x, y);
    }

    public static Tensor Apply(Tensor x, double p, bool[] reduced, bool keepDim)
    {
        if (!x.DType.IsFloatingPoint())
            throw new ArgumentException($"Norm: needs a floating-point tensor; got {x.DType.DisplayName()} of shape {x.Shape}.");
        if (double.IsNaN(p)) throw new ArgumentException("Norm: the order p is NaN.");
        var kept = Forward(x.Detach(), p, reduced);
        var y = keepDim ? kept : SumOp.Squeezed(kept.Contiguous(), reduced);
        return Autograd.IsRecording(x) ? new NormOp(x, p, kept.Sizes, y).Attach(y) : y;
    }

    private static Tensor Forward(Tensor x, double p, bool[] reduced)
    {
        var magnitude = x.Abs();
        if (p == 0) return SumOp.Apply(magnitude.Ne(0.0).To(x.DType), reduced, keepDim: true);
        if (double.IsPositiveInfinity(p)) return ExtremumOp.Apply(magnitude, reduced, keepDim: true, max: true);
        if (double.IsNegativeInfinity(p)) return ExtremumOp.Apply(magnitude, reduced, keepDim: true, max: false);
        if (p == 1) return SumOp.Apply(magnitude, reduced, keepDim: true);
        if (p == 2) return SumOp.Apply(magnitude.Square(), reduced, keepDim: true).Sqrt();
        return SumOp.Apply(magnitude.Pow(p), reduced, keepDim: true).Pow(1 / p);
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        var norm = Saved(1).Reshape(_keptSizes);
        g = g.Reshape(_keptSizes);
        var grad = _p switch
        {
            0 => Tensor.ZerosLike(x),
            1 => Sign(x) * g,
            2 => x * Masked(norm, g / NonZero(norm)),
            _ when double.IsInfinity(_p) => InfinityGradient(x, norm, g),
            < 1 => Sign(x) * Tensor.Where(x.Eq(0.0), 0.0, NonZero(x.Abs()).Pow(_p - 1)) * g * norm.Pow(1 - _p),
            < 2 => Sign(x) * x.Abs().Pow(_p - 1) * Masked(norm, g / NonZero(norm).Pow(_p - 1)),
            _ => x * x.Abs().Pow(_p - 2) * Masked(norm, g / NonZero(norm).Pow(_p - 1)),
        };
        grads[0] = grad.ExpandTo(x.Sizes);
    }

    // The maximum (or minimum) |x| and any NaN take the gradient, shared evenly.
    private static Tensor InfinityGradient(Tensor x, Tensor norm, Tensor g)
    {
        var magnitude = x.Abs().Detach();
        var extreme = magnitude.Eq(norm.Detach()).Or(magnitude.IsNaN()).To(x.DType);
        var count = SumOp.Apply(extreme, Enumerable.Range(0, x.Rank).Select(d => norm.Sizes[d] == 1 && x.Sizes[d] != 1).ToArray(), keepDim: true);
        return Sign(x) * (g / count) * extreme;
    }

    /// <summary>sgn(x) as a constant (its derivative is 0 almost everywhere); NaN stays NaN.</summary>
    private static Tensor Sign(Tensor x)
    {
        var v = x.Detach();
        return Tensor.Where(v.IsNaN(), v, v.Gt(0.0).To(v.DType) - v.Lt(0.0).To(v.DType));
    }

    private static Tensor NonZero(Tensor t) => Tensor.Where(t.Eq(0.0), 1.0, t);

    private static Tensor Masked(Tensor norm, Tensor scale) => Tensor.Where(norm.Eq(0.0), 0.0, scale);

    // Through the backward, which already holds PyTorch's choices at zero norms, zero elements and ties for p = ±∞.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => JvpThroughBackward(t, y);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Norm", x => x[0].Norm(), [3, 4]),
        // ‖0‖ has gradient 0 (PyTorch's subgradient), and central differences agree: ‖h‖ = ‖−h‖.
        new("Norm at zero", x => (x[0] * 0).Norm(), [3, 4]),
        new("Norm p=2 dims", x => x[0].Norm(2, [1]), GradcheckInput.Transposed(3, 4)),
        new("Norm p=1", x => x[0].Norm(1), GradcheckInput.NonZero(3, 4)),
        new("Norm p=3 keepDim", x => x[0].Norm(3, [0], keepDim: true), [3, 4]),
        new("Norm p=1.5", x => x[0].Norm(1.5, [-1]), GradcheckInput.Strided(2, 3)),
        new("Norm p=0.5", x => x[0].Norm(0.5, [0, 2]), GradcheckInput.NonZero(2, 3, 2)),
        new("Norm p=-1", x => x[0].Norm(-1, [1]), GradcheckInput.NonZero(3, 4)),
        new("Norm p=inf", x => x[0].Norm(double.PositiveInfinity, [1]), [3, 4]),
        new("Norm p=-inf", x => x[0].Norm(double.NegativeInfinity), GradcheckInput.NonZero(5)),
        new("Norm p=0", x => x[0].Norm(0, [1]), [2, 3]),
        new("Dist p=2 broadcast", x => Tensor.Dist(x[0], x[1]), [3, 4], [4]),
        new("Dist p=4", x => x[0].Dist(x[1], 4), [2, 3], GradcheckInput.Transposed(2, 3)),
        new("CDist p=2", x => Tensor.CDist(x[0], x[1]), [3, 2], [4, 2]),
        new("CDist p=1 batched", x => Tensor.CDist(x[0], x[1], 1), [2, 3, 2], GradcheckInput.Transposed(2, 2, 2)),
        new("CDist p=inf", x => Tensor.CDist(x[0], x[1], double.PositiveInfinity), [3, 3], [2, 3]),
    ];
}
