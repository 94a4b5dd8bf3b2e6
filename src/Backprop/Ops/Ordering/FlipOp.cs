using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>The elements in reverse order along some dimensions (torch.flip): a copy, as in PyTorch.</summary>
internal sealed class FlipOp : Node, IGradchecked
{
    private readonly int[] _dims;

    private FlipOp(Tensor x, int[] dims) : base(x) => _dims = dims;

    /// <param name="dims">Normalised, distinct dimensions.</param>
    public static Tensor Apply(Tensor x, int[] dims)
    {
        var y = Tensor.Empty(x.Sizes, x.DType, x.Backend);
        x.Backend.Flip(x.Strided, dims, y.Strided);
        return Autograd.IsRecording(x) ? new FlipOp(x, dims).Attach(y) : y;
    }

    // A permutation that is its own inverse: the gradient is flipped back the same way.
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = Apply(g, _dims);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _dims);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Flip last dim", x => x[0].Flip(-1) * x[0], [3, 4]),
        new("Flip two dims transposed", x => x[0].Flip(0, 1), GradcheckInput.Transposed(3, 4)),
        new("Flip middle dim strided", x => x[0].Flip(1).Sin(), GradcheckInput.Strided(2, 3, 4)),
    ];
}
