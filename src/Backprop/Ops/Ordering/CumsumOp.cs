using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>The running sum along a dimension (torch.cumsum).</summary>
internal sealed class CumsumOp : Node, IGradchecked
{
    private readonly int _dim;

    private CumsumOp(Tensor x, int dim) : base(x) => _dim = dim;

    public static Tensor Apply(Tensor x, int dim)
    {
        var y = Tensor.Empty(x.Sizes, x.DType, x.Backend);
        x.Backend.Cumsum(x.Strided, dim, y.Strided);
        return Autograd.IsRecording(x) ? new CumsumOp(x, dim).Attach(y) : y;
    }

    // xᵢ enters every output from i on, so its gradient is the sum of those outputs' gradients: a running sum from the
    // end. Built from Flip and Cumsum, it is itself differentiable.
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = ReverseCumsum(g, _dim);

    /// <summary>yᵢ = Σ_{j ≥ i} xⱼ along <paramref name="dim"/>.</summary>
    internal static Tensor ReverseCumsum(Tensor x, int dim) => FlipOp.Apply(Apply(FlipOp.Apply(x, [dim]), dim), [dim]);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _dim);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Cumsum dim 1", x => x[0].Cumsum(1), [3, 4]),
        new("Cumsum dim 0 transposed", x => x[0].Cumsum(0), GradcheckInput.Transposed(4, 3)),
        new("Cumsum last dim strided", x => x[0].Cumsum(-1) * x[0], GradcheckInput.Strided(2, 5)),
        new("Cumsum of a scalar", x => x[0].Cumsum(0), [new int[0]]),
    ];
}
