using Backprop.Diagnostics;

namespace Backprop.Ops;

internal sealed class ClampOp : Node, IGradchecked
{
    private readonly double _min, _max;

    private ClampOp(Tensor x, double min, double max) : base(x)
    {
        _min = min;
        _max = max;
        Save(x);
    }

    public static Tensor Apply(Tensor x, double min, double max)
    {
        if (min > max) throw new ArgumentException($"Clamp: min ({min}) is greater than max ({max}).");
        var y = Kernels.Unary(UnaryOp.Clamp, x, min, max);
        return Autograd.IsRecording(x) ? new ClampOp(x, min, max).Attach(y) : y;
    }

    // The gradient passes where min ≤ x ≤ max, as in PyTorch.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        grads[0] = g * x.Ge(_min).And(x.Le(_max)).To(g.DType);
    }

    // Passes where min ≤ x ≤ max, as the backward does.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * x[0].Ge(_min).And(x[0].Le(_max)).To(y.DType);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Clamp both", x => x[0].Clamp(-0.55, 0.65), [4, 5]),
        new("Clamp min only", x => x[0].Clamp(min: 0.05), GradcheckInput.Transposed(3, 4)),
        new("Clamp max only", x => x[0].Clamp(max: -0.05), [6]),
    ];
}
