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

    private static readonly Tensor ClassWeights = Tensor.FromArray(new[] { 0.5, 2.0, 1.0, 0.25, 1.5 });
    private static readonly Tensor Targets = Tensor.FromArray(new long[] { 2, 0, 4, 1 });
    private static readonly Tensor TargetsWithIgnored = Tensor.FromArray(new long[] { 2, 3, -1, 1 });
    private static readonly Tensor SpatialTargets = Tensor.FromArray(new long[] { 0, 2, 1, 7, 2, 0 }, 2, 3);

    // t − Σ softmax·t along the dim.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => y.Rank == 0 ? t[0]! * 0.0 : t[0]! - (y.Exp() * t[0]!).Sum(_dim, keepDim: true);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("LogSoftmax last dim", x => x[0].LogSoftmax(-1), [3, 5]),
        new("LogSoftmax dim 0 strided", x => x[0].LogSoftmax(0), GradcheckInput.Strided(4, 3)),
        new("LogSoftmax large logits", x => (x[0] * 50.0).LogSoftmax(1), [2, 4]),
        // Weighted and label-smoothed cross-entropy are compositions over log-softmax.
        new("CrossEntropy class weights", x => Nn.Functional.CrossEntropy(x[0], Targets, weight: ClassWeights), [4, 5]),
        new("CrossEntropy label smoothing", x => Nn.Functional.CrossEntropy(x[0], Targets, labelSmoothing: 0.2), GradcheckInput.Transposed(4, 5)),
        new("CrossEntropy weights smoothing ignore index", x => Nn.Functional.CrossEntropy(x[0], TargetsWithIgnored, ClassWeights,
            ignoreIndex: -1, labelSmoothing: 0.1), [4, 5]),
        new("CrossEntropy spatial smoothing sum", x => Nn.Functional.CrossEntropy(x[0], SpatialTargets, ClassWeights[..3],
            Nn.Reduction.Sum, ignoreIndex: 7, labelSmoothing: 0.3), [2, 3, 3]),
        new("CrossEntropy smoothing none", x => Nn.Functional.CrossEntropy(x[0], Targets, reduction: Nn.Reduction.None, labelSmoothing: 0.5), [4, 5]),
    ];
}
