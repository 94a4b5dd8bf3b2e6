using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// One Elman step in one node: h' = act(P[t] + h·W_hhᵀ + b_hh) with act tanh or ReLU. Saves h and h'; the backward
/// is ∂pre = ∂h'·act′ from h' (kernel path) or from the step recomputed with tensor ops (createGraph).
/// </summary>
internal sealed class RnnStepOp : Node, IGradchecked
{
    private readonly RecurrentSequence _sequence;
    private readonly int _step;
    private readonly bool _relu;

    private RnnStepOp(RecurrentSequence sequence, int step, bool relu, Tensor h, Tensor output) : base(sequence.Token, h)
    {
        _sequence = sequence;
        _step = step;
        _relu = relu;
        Save(h, output);
    }

    public static Tensor Apply(RecurrentSequence sequence, int step, Tensor h, bool relu)
    {
        var backend = sequence.ProjectedValues.Backend;
        var input = sequence.ProjectedStep(step);
        var output = Tensor.Empty(input.Sizes, input.DType, backend);
        sequence.MultiplyHidden(h, output, accumulate: false);
        backend.RnnCellForward(output.Strided, input.Strided, sequence.BiasHh?.Strided, relu);
        return Autograd.IsRecording(sequence.Token, h) ? new RnnStepOp(sequence, step, relu, h, output).Attach(output) : output;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var h = Saved(0);
        var s = _sequence;
        Tensor dPre;
        if (Autograd.IsGradEnabled)
        {
            var pre = s.Projected.Select(0, _step) + Nn.Functional.Linear(h, s.WeightHh, s.BiasHh);
            if (_relu) dPre = Tensor.Where(pre.Gt(0.0), g, 0.0);
            else
            {
                var y = pre.Tanh();
                dPre = g * (1.0 - y * y);
            }
            if (NeedsGrad(0)) s.StoreGradients(_step, dPre, dPre);
        }
        else
        {
            var output = Saved(1);
            var gradient = g.IsContiguous ? g : g.Contiguous();
            dPre = NeedsGrad(0) ? s.InputGradientRows(_step) : Tensor.Empty(output.Sizes, output.DType, output.Backend);
            output.Backend.RnnCellBackward(output.Strided, gradient.Strided, dPre.Strided, _relu);
        }
        if (NeedsGrad(0)) grads[0] = Tensor.ZerosLike(s.Token);
        if (NeedsGrad(1)) grads[1] = dPre.MatMul(s.WeightHh);
    }

    /// <summary>∂h' = act′(pre)·(∂P[t] + ∂h·W_hhᵀ + h·∂W_hhᵀ + ∂b_hh), with act′ from the output (ReLU: 1 where it is positive).</summary>
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        if (_sequence.PreActivationTangent(_step, x[1], t[1]) is not { } dPre) return null;
        return _relu ? Tensor.Where(y.Gt(0.0), dPre, 0.0) : dPre * (1.0 - y * y);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases => RecurrentGradcheck.RnnCases;
}
