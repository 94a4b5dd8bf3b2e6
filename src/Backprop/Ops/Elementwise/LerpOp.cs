using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>start + weight·(end − start), with start, end and weight already of one shape and dtype.</summary>
internal sealed class LerpOp : Node, IGradchecked
{
    private LerpOp(Tensor start, Tensor end, Tensor weight) : base(start, end, weight) =>
        Save(NeedsGrad(2) ? start : null, NeedsGrad(2) ? end : null, NeedsGrad(0) || NeedsGrad(1) ? weight : null);

    public static Tensor Apply(Tensor start, Tensor end, Tensor weight)
    {
        var y = Tensor.Empty(start.Sizes, start.DType, start.Backend);
        start.Backend.Lerp(start.Strided, end.Strided, weight.Strided, y.Strided);
        return Autograd.IsRecording([start, end, weight]) ? new LerpOp(start, end, weight).Attach(y) : y;
    }

    // derivatives.yaml (lerp.Tensor): ∂/∂start = 1 − w, ∂/∂end = w, ∂/∂w = end − start.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        if (NeedsGrad(0)) grads[0] = g * (1.0 - Saved(2));
        if (NeedsGrad(1)) grads[1] = g * Saved(2);
        if (NeedsGrad(2)) grads[2] = g * (Saved(1) - Saved(0));
    }

    // (1 − w)·t_start + w·t_end + (end − start)·t_w.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => ForwardAD.Plus(ForwardAD.Plus(t[0] is { } ts ? ts * (1.0 - x[2]) : null, t[1] is { } te ? te * x[2] : null),
            t[2] is { } tw ? tw * (x[1] - x[0]) : null);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Lerp", x => Tensor.Lerp(x[0], x[1], x[2]), [3, 4], [3, 4], [3, 4]),
        new("Lerp broadcast non-contiguous", x => Tensor.Lerp(x[0], x[1], x[2]), GradcheckInput.Transposed(3, 4), [4], GradcheckInput.Strided(3, 1)),
        new("Lerp scalar weight", x => x[0].Lerp(x[1], 0.3), [2, 3], GradcheckInput.Transposed(2, 3)),
        new("Lerp scalar weight above one half", x => x[0].Lerp(x[1], 0.8), [4], [4]),
    ];
}
