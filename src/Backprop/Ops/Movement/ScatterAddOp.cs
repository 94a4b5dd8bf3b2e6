using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>A copy of x with each source element added at the position the index names along one dim.</summary>
internal sealed class ScatterAddOp : Node, IGradchecked
{
    private readonly int _dim;

    private ScatterAddOp(Tensor x, Tensor source, int dim, Tensor index) : base(x, source)
    {
        _dim = dim;
        Save(index);
    }

    public static Tensor Apply(Tensor x, int dim, Tensor index, Tensor source)
    {
        Tensor.CheckSameDevice("ScatterAdd", x, ("index", index), ("source", source));
        if (index.Shape != source.Shape)
            throw new ShapeMismatchException("ScatterAdd", $"index has shape {index.Shape} but source has shape {source.Shape}");
        var y = CloneOp.Apply(x.Detach());
        x.Backend.ScatterAdd(y.Strided, dim, index.Strided, source.Strided);
        return Autograd.IsRecording(x, source) ? new ScatterAddOp(x, source, dim, index).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        if (NeedsGrad(0)) grads[0] = g;
        if (NeedsGrad(1)) grads[1] = GatherOp.Apply(g, _dim, Saved(0));
    }

    private static readonly Tensor Positions = Tensor.FromArray(new long[] { 0, 3, 3, 1, 2, 0 }, 2, 3);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(ForwardAD.OrZeros(t[0], x[0]), _dim, Saved(0), ForwardAD.OrZeros(t[1], x[1]));

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("ScatterAdd with collisions", x => x[0].ScatterAdd(1, Positions, x[1]), [2, 4], [2, 3]),
    ];
}
