using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// Broadcasting made explicit: size-1 dims (and new leading dims) repeated with stride 0, without copying.
/// Its backward sums the gradient back to the input's shape: the one place broadcast gradients are reduced.
/// </summary>
internal sealed class ExpandOp : Node, IGradchecked
{
    private readonly int[] _inputSizes;

    private ExpandOp(Tensor x) : base(x) => _inputSizes = x.Sizes;

    public static Tensor Apply(Tensor x, int[] sizes)
    {
        int lead = sizes.Length - x.Rank;
        if (lead < 0) throw new ShapeMismatchException("Expand", $"cannot expand shape {x.Shape} to {Shape.Format(sizes)}");
        var strides = new int[sizes.Length];
        for (int d = 0; d < sizes.Length; d++)
        {
            if (d < lead) continue;
            int from = x.Sizes[d - lead];
            if (from == sizes[d]) strides[d] = x.StrideArray[d - lead];
            else if (from != 1)
                throw new ShapeMismatchException("Expand", $"cannot expand shape {x.Shape} to {Shape.Format(sizes)} (dimension {d}: {from} is not 1)");
        }
        var y = new Tensor(x.Storage, (int[])sizes.Clone(), strides, x.Offset, x);
        return Autograd.IsRecording(x) ? new ExpandOp(x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g.SumTo(_inputSizes);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]!.ExpandTo(y.Sizes);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Expand", x => x[0].Expand(3, 4) * x[1], [4], [3, 4]),
        new("Expand middle", x => x[0].Expand(2, 3, 4).Sin(), [2, 1, 4]),
        new("ExpandAs transposed", x => x[0].ExpandAs(x[1]) * x[1], GradcheckInput.Transposed(4, 1), [4, 3]),
        // Repeat and Tile expand a size-1 dim beside each dim, then merge the pair.
        new("Repeat with new leading dim", x => x[0].Repeat(2, 1, 3) * x[1], [2, 3], [2, 2, 9]),
        new("Tile transposed", x => x[0].Tile(2).Sin(), GradcheckInput.Transposed(3, 2)),
    ];
}
