using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>A copy of x with source's slices added at the indexed positions of one dim.</summary>
internal sealed class IndexAddOp : Node, IGradchecked
{
    private readonly int _dim;

    private IndexAddOp(Tensor x, Tensor source, int dim, Tensor index) : base(x, source)
    {
        _dim = dim;
        Save(index);
    }

    public static Tensor Apply(Tensor x, int dim, Tensor index, Tensor source)
    {
        Tensor.CheckSameDevice("IndexAdd", x, ("index", index), ("source", source));
        if (index.DType != DType.Int64 || index.Rank != 1)
            throw new ArgumentException($"IndexAdd: the index must be a 1-D int64 tensor; got {index.DType.DisplayName()} of shape {index.Shape}.");
        var expected = (int[])x.Sizes.Clone();
        expected[dim] = index.Sizes[0];
        if (!expected.AsSpan().SequenceEqual(source.Sizes))
            throw new ShapeMismatchException("IndexAdd", $"source has shape {source.Shape} but shape {Shape.Format(expected)} was expected");
        var y = CloneOp.Apply(x.Detach());
        x.Backend.IndexAdd(y.Strided, dim, index.Strided, source.Strided);
        return Autograd.IsRecording(x, source) ? new IndexAddOp(x, source, dim, index).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        if (NeedsGrad(0)) grads[0] = g;
        if (NeedsGrad(1)) grads[1] = IndexSelectOp.Apply(g, _dim, Saved(0));
    }

    private static readonly Tensor Targets = Tensor.FromArray(new long[] { 1, 1, 0 });

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(ForwardAD.OrZeros(t[0], x[0]), _dim, Saved(0), ForwardAD.OrZeros(t[1], x[1]));

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("IndexAdd", x => x[0].IndexAdd(0, Targets, x[1]), [2, 4], [3, 4]),
    ];
}
