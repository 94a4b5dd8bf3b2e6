using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>A contiguous copy in fresh storage.</summary>
internal sealed class CloneOp : Node, IGradchecked
{
    private CloneOp(Tensor x) : base(x) { }

    public static Tensor Apply(Tensor x)
    {
        var y = Tensor.EmptyLike(x);
        x.Backend.Copy(x.Strided, y.Strided);
        return Autograd.IsRecording(x) ? new CloneOp(x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g;

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0];

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Clone", x => x[0].Clone(), [3, 4]),
        new("Contiguous of transposed", x => x[0].Contiguous(), GradcheckInput.Transposed(3, 4)),
    ];
}
