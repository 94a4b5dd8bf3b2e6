using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class LogSoftmaxOp : Node, IGradchecked
{
    private readonly int _dim;

    private LogSoftmaxOp(Tensor x, Tensor y, int dim) : base(x)
    {
        _dim = dim;
        Save(y);
    }

    public static Tensor Apply(Tensor x, int dim)
    {
        var y = Tensor.EmptyLike(x);
        if (x.Rank == 0) y.Backend.Fill(y.Strided, 0);
        else x.Backend.Softmax(x.Strided, dim, y.Strided, log: true);
        return Autograd.IsRecording(x) ? new LogSoftmaxOp(x, y, dim).Attach(y) : y;
    }

    // y = x − logΣeˣ: ∂L/∂x = g − softmax(x)·Σg, with softmax(x) = e^y.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var y = Saved(0);
        grads[0] = y.Rank == 0 ? g * 0.0 : g - y.Exp() * g.Sum(_dim, keepDim: true);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("LogSoftmax last dim", x => x[0].LogSoftmax(-1), [3, 5]),
        new("LogSoftmax dim 0 strided", x => x[0].LogSoftmax(0), GradcheckInput.Strided(4, 3)),
        new("LogSoftmax large logits", x => (x[0] * 50.0).LogSoftmax(1), [2, 4]),
    ];
}
