using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class AddOp : Node, IGradchecked
{
    private AddOp(Tensor a, Tensor b) : base(a, b) { }

    public static Tensor Apply(Tensor a, Tensor b)
    {
        var y = Kernels.Binary(BinaryOp.Add, a, b);
        return Autograd.IsRecording(a, b) ? new AddOp(a, b).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        grads[0] = g;
        grads[1] = g;
    }

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => ForwardAD.Plus(t[0], t[1]);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Add", x => x[0] + x[1], [3, 4], [3, 4]),
        new("Add broadcast row", x => x[0] + x[1], [3, 4], [4]),
        new("Add broadcast both", x => x[0] + x[1], [3, 1], [1, 4]),
        new("Add scalar", x => x[0] + 2.5, [2, 3]),
        new("Add non-contiguous", x => x[0] + x[1], GradcheckInput.Transposed(3, 4), GradcheckInput.Strided(3, 4)),
    ];
}
