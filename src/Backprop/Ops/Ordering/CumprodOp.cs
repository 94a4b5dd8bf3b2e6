using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>The running product along a dimension (torch.cumprod).</summary>
internal sealed class CumprodOp : Node, IGradchecked
{
    private readonly int _dim;

    private CumprodOp(Tensor x, int dim) : base(x)
    {
        _dim = dim;
        Save(x);
    }

    public static Tensor Apply(Tensor x, int dim)
    {
        var y = Tensor.Empty(x.Sizes, x.DType, x.Backend);
        x.Backend.Cumprod(x.Strided, dim, y.Strided);
        return Autograd.IsRecording(x) ? new CumprodOp(x, dim).Attach(y) : y;
    }

    // ∂L/∂xₖ = Σ_{j ≥ k} gⱼ · Π_{i ≤ j, i ≠ k} xᵢ. Without zeros that is the reverse running sum of g·y divided by xₖ;
    // with zeros dividing is wrong, so (as PyTorch's cumprod_backward) the zeros are handled apart. Under createGraph
    // with zeros present the exact quadratic form is used, whose own derivative is the true second derivative.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        bool hasZeros;
        using (Autograd.NoGrad()) hasZeros = x.NumElements > 0 && x.Eq(0.0).To(DType.Float64).Sum().Item<double>() > 0;
        grads[0] = hasZeros && Autograd.BackwardRecords ? QuadraticGradient(x, g, _dim) : MaskedGradient(x, g, _dim);
    }

    /// <summary>
    /// With x′ = x where the zeros are replaced by 1, P = cumprod(x′) and c the running count of zeros:
    /// a non-zero xₖ before the first zero gets Σ_{j ≥ k, cⱼ = 0} gⱼPⱼ / xₖ, the first zero gets Σ_{j ≥ k, cⱼ = 1} gⱼPⱼ,
    /// and everything after the first zero gets 0 (each of its products holds that zero). Without zeros it is exactly
    /// reverse_cumsum(g·y) / x, which is differentiable.
    /// </summary>
    private static Tensor MaskedGradient(Tensor x, Tensor g, int dim)
    {
        Tensor isZero, zerosSoFar;
        using (Autograd.NoGrad())
        {
            isZero = x.Eq(0.0);
            zerosSoFar = CumsumOp.Apply(isZero.To(x.DType), dim);
        }
        var unzeroed = Tensor.Where(isZero, 1.0, x);
        var weighted = g * Apply(unzeroed, dim);
        var beforeFirstZero = CumsumOp.ReverseCumsum(Tensor.Where(zerosSoFar.Eq(0.0), weighted, 0.0), dim);
        var fromFirstZero = CumsumOp.ReverseCumsum(Tensor.Where(zerosSoFar.Eq(1.0), weighted, 0.0), dim);
        return Tensor.Where(isZero, fromFirstZero, beforeFirstZero) / unzeroed;
    }

    /// <summary>
    /// The gradient from its definition: M[k, j] = Π_{i ≤ j, i ≠ k} xᵢ is the running product along j of x with
    /// element k replaced by 1, and ∂L/∂xₖ = Σ_{j ≥ k} gⱼ M[k, j]. O(n²) in the dimension's size, and built from
    /// differentiable ops only.
    /// </summary>
    private static Tensor QuadraticGradient(Tensor x, Tensor g, int dim)
    {
        int n = x.Sizes[dim];
        var rows = x.Transpose(dim, -1).Unsqueeze(-2);
        var upstream = g.Transpose(dim, -1).Unsqueeze(-2);
        var sizes = (int[])rows.Sizes.Clone();
        sizes[^2] = n;
        var identity = Tensor.Eye(n, x.DType, x.Device);
        var omitted = Apply(Tensor.Where(identity, 1.0, rows.ExpandTo(sizes)), sizes.Length - 1);
        // Row k sums over j ≥ k: the upper triangle.
        var later = Tensor.Ones(Shape.Wrap([n, n]), x.DType, x.Device).Triu();
        var gradient = Tensor.Where(later, upstream * omitted, 0.0).Sum(-1);
        return gradient.Transpose(dim, -1);
    }

    private static readonly Tensor WithZeros = Tensor.FromArray(new[] { 1.5, 0, -0.7, 0, 1.2, 0.9, 0, 2, -1.1, 0.4, 0.8, -1.3 }, 3, 4);

    // Through the backward, which handles zeros exactly (dividing by x would not).
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => JvpThroughBackward(t, y);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Cumprod dim 1", x => x[0].Cumprod(1), [3, 4]),
        new("Cumprod dim 0 transposed", x => x[0].Cumprod(0), GradcheckInput.Transposed(4, 3)),
        new("Cumprod last dim strided", x => x[0].Cumprod(-1) * x[0], GradcheckInput.Strided(2, 5)),
        // x times a constant with zeros: the masked path with one and with two zeros in a row.
        new("Cumprod with zeros", x => (x[0] * WithZeros).Cumprod(1), [3, 4]),
    ];
}
