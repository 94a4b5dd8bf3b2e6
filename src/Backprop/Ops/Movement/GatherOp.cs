using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class GatherOp : Node, IGradchecked
{
    private readonly int _dim;
    private readonly int[] _inputSizes;

    private GatherOp(Tensor x, int dim, Tensor index) : base(x)
    {
        _dim = dim;
        _inputSizes = x.Sizes;
        Save(index);
    }

    public static Tensor Apply(Tensor x, int dim, Tensor index)
    {
        Tensor.CheckSameDevice("Gather", x, ("index", index));
        var y = Tensor.Empty(index.Sizes, x.DType, x.Backend);
        x.Backend.Gather(x.Strided, dim, index.Strided, y.Strided);
        return Autograd.IsRecording(x) ? new GatherOp(x, dim, index).Attach(y) : y;
    }

    // Each gathered element's gradient is added back at the position it was read from.
    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = ScatterAddOp.Apply(Tensor.Zeros(Shape.Wrap(_inputSizes), g.DType, g.Device), _dim, Saved(0), g);

    private static readonly Tensor Picks = Tensor.FromArray(new long[] { 0, 2, 2, 1, 3, 0 }, 3, 2);
    private static readonly Tensor RowPicks = Tensor.FromArray(new long[] { 0, 2, 2, 1, 1, 0 }, 3, 2);

    private static readonly Tensor NllTargets = Tensor.FromArray(new long[] { 1, 0, -100, 2 });
    private static readonly Tensor NllWeights = Tensor.FromArray(new[] { 0.3, 1.0, 2.5 });

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _dim, Saved(0));

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Gather dim 1", x => x[0].Gather(1, Picks), [3, 4]),
        new("Gather dim 0 transposed", x => x[0].Gather(0, RowPicks), GradcheckInput.Transposed(3, 2)),
        // NllLoss is a gather of the target classes, weighted and reduced.
        new("NllLoss ignore index", x => Nn.Functional.NllLoss(x[0], NllTargets), [4, 3]),
        new("NllLoss class weights", x => Nn.Functional.NllLoss(x[0], NllTargets, NllWeights), GradcheckInput.Transposed(4, 3)),
        new("NllLoss weighted sum", x => Nn.Functional.NllLoss(x[0], NllTargets, NllWeights, Nn.Reduction.Sum), [4, 3]),
        // Sort, TopK, Kthvalue, Median(dim) and Mode gather their values at the positions the kernels pick.
        new("Sort values descending", x => x[0].Sort(1, descending: true).Values * x[0], [3, 4]),
        new("Sort values dim 0 transposed", x => x[0].Sort(0).Values, GradcheckInput.Transposed(4, 3)),
        new("TopK values", x => x[0].TopK(2, dim: 0, largest: false).Values, GradcheckInput.Strided(4, 3)),
        new("Kthvalue values keepDim", x => x[0].Kthvalue(2, 1, keepDim: true).Values, [3, 4]),
        new("Median dim values", x => x[0].Median(0).Values, GradcheckInput.Transposed(4, 3)),
        new("Mode values", x => x[0].Mode(1).Values, [3, 4]),
    ];
}
