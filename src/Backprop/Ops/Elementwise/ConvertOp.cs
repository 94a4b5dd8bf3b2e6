using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>A copy in another dtype. Gradients flow between floating-point dtypes.</summary>
internal sealed class ConvertOp : Node, IGradchecked
{
    private readonly DType _from;

    private ConvertOp(Tensor x) : base(x) => _from = x.DType;

    public static Tensor Apply(Tensor x, DType dtype)
    {
        var y = Tensor.Empty(x.Sizes, dtype, x.Backend);
        x.Backend.Copy(x.Strided, y.Strided);
        bool differentiable = dtype.IsFloatingPoint() && x.DType.IsFloatingPoint();
        return differentiable && Autograd.IsRecording(x) ? new ConvertOp(x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g.To(_from);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]!.To(y.DType);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        // Float64 → Float32 → Float64 loses precision, so the round trip is checked at a float32 tolerance.
        new("Convert round trip", x => (x[0].To(DType.Float32) * 2.0).To(DType.Float64), [3, 4]) { Eps = 1e-3, Atol = 1e-3, Rtol = 1e-2 },
    ];
}
