using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>A zero tensor of a given shape with the input written into one strided window (the adjoint of a slice).</summary>
internal sealed class SliceScatterOp : Node, IGradchecked
{
    private readonly int _dim, _start, _step, _length;

    private SliceScatterOp(Tensor source, int dim, int start, int step) : base(source)
    {
        _length = source.Sizes[dim];
        _dim = dim;
        _start = start;
        _step = step;
    }

    public static Tensor Apply(Tensor source, int[] sizes, int dim, int start, int step)
    {
        var y = Tensor.Zeros(Shape.Wrap(sizes), source.DType, source.Device);
        var window = SliceOp.Apply(y.Detach(), dim, start, source.Sizes[dim], step);
        source.Backend.Copy(source.Strided, window.Strided);
        return Autograd.IsRecording(source) ? new SliceScatterOp(source, dim, start, step).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = SliceOp.Apply(g, _dim, _start, _length, _step);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, y.Sizes, _dim, _start, _step);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("SliceScatter", x => Apply(x[0], [3, 7], 1, 1, 2) * 1.5, [3, 3]),
    ];
}
