using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>The elements rotated along one dimension (torch.roll with one dim): yᵢ₊ₛ = xᵢ, indices modulo the size.</summary>
internal sealed class RollOp : Node, IGradchecked
{
    private readonly int _dim;
    private readonly int _shift;

    private RollOp(Tensor x, int dim, int shift) : base(x) => (_dim, _shift) = (dim, shift);

    /// <param name="shift">Already reduced to [0, size) (any shift when the dimension is empty).</param>
    public static Tensor Apply(Tensor x, int dim, int shift)
    {
        var y = Tensor.Empty(x.Sizes, x.DType, x.Backend);
        x.Backend.Roll(x.Strided, dim, shift, y.Strided);
        return Autograd.IsRecording(x) ? new RollOp(x, dim, shift).Attach(y) : y;
    }

    // The gradient rotates back by the same amount.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        int size = g.Sizes[_dim];
        grads[0] = Apply(g, _dim, size == 0 ? 0 : (size - _shift) % size);
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _dim, _shift);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Roll last dim", x => x[0].Roll(1, -1) * x[0], [3, 4]),
        new("Roll two dims transposed", x => x[0].Roll([2, -1], [0, 1]), GradcheckInput.Transposed(3, 4)),
        new("Roll flattened strided", x => x[0].Roll(-4).Sin(), GradcheckInput.Strided(2, 3)),
    ];
}
