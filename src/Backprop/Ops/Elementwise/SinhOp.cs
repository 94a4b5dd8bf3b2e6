using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class SinhOp : Node, IGradchecked
{
    private SinhOp(Tensor x) : base(x) => Save(x);

    public static Tensor Apply(Tensor x)
    {
        var y = Kernels.Unary(UnaryOp.Sinh, x);
        return Autograd.IsRecording(x) ? new SinhOp(x).Attach(y) : y;
    }

    // sinh′ = cosh.
    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * Saved(0).Cosh();

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * x[0].Cosh();

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Sinh", x => x[0].Sinh(), [3, 4]),
        new("Sinh transposed", x => x[0].Sinh(), GradcheckInput.Transposed(2, 3)),
    ];
}
