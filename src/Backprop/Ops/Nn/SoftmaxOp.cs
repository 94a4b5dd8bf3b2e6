using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class SoftmaxOp : Node, IGradchecked
{
    private readonly int _dim;

    private SoftmaxOp(Tensor x, Tensor y, int dim) : base(x)
    {
        _dim = dim;
        Save(y);
    }

    public static Tensor Apply(Tensor x, int dim)
    {
        var y = Tensor.EmptyLike(x);
        if (x.Rank == 0) y.Backend.Fill(y.Strided, 1);
        else x.Backend.Softmax(x.Strided, dim, y.Strided, log: false);
        return Autograd.IsRecording(x) ? new SoftmaxOp(x, y, dim).Attach(y) : y;
    }

    // The softmax Jacobian is diag(y) − y·yᵀ, so its vector product is y ⊙ (g − Σ g ⊙ y).
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var y = Saved(0);
        if (y.Rank == 0)
        {
            grads[0] = g * 0.0;
            return;
        }
        grads[0] = y * (g - (g * y).Sum(_dim, keepDim: true));
    }

    // y ⊙ (t − Σ t ⊙ y): the Jacobian diag(y) − y·yᵀ is symmetric.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => y.Rank == 0 ? t[0]! * 0.0 : y * (t[0]! - (t[0]! * y).Sum(_dim, keepDim: true));

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Softmax last dim", x => x[0].Softmax(-1), [3, 5]),
        new("Softmax dim 0", x => x[0].Softmax(0), [4, 3]),
        new("Softmax middle dim transposed", x => x[0].Softmax(1), GradcheckInput.Transposed(2, 3, 4)),
    ];
}
