using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// One LSTM time step in one node: pre-activations P[t] + h·W_hhᵀ + b_hh (one GEMM, whose result the kernel adds P[t]
/// and b_hh to, rather than a GEMM into a copy of P[t]), the gates,
/// c' = f·c + i·g and h' = o·tanh(c'), in one kernel pass. Output is [2, B, H]: h' then c', so both are contiguous
/// views (<c>Select(0, 0)</c>, <c>Select(0, 1)</c>) of the one output a node may have.
/// </summary>
/// <remarks>
/// Why one stacked output rather than a node per output, as <see cref="SvdOp"/> does: the two outputs share one
/// backward (∂c' and ∂h' both feed every gate), so two nodes would each run the whole kernel on half the gradient,
/// or need a rendezvous between them; stacked, the engine sums the gradients of both views into one [2, B, H]
/// tensor and the backward runs once. [2, B, H] rather than [B, 2H] keeps h' and c' contiguous for the next GEMM
/// and kernel.
/// </remarks>
/// <remarks>
/// Saves the activated gates [B, 4H] (the kernel's workspace), the inputs h and c, and its output; the backward
/// recomputes only tanh(c'). Its kernel path writes ∂(pre-activations) into the sequence's buffer and returns
/// ∂h = ∂G·W_hh and ∂c = ∂c'·f + …; under createGraph it recomputes the step with tensor ops from the saved inputs
/// and writes the same formulas differentiably. Inputs: the sequence token, h [B, outSize], c [B, H].
/// </remarks>
internal sealed class LstmStepOp : Node, IGradchecked
{
    private readonly RecurrentSequence _sequence;
    private readonly int _step;

    private LstmStepOp(RecurrentSequence sequence, int step, Tensor h, Tensor c, Tensor gates, Tensor output) : base(sequence.Token, h, c)
    {
        _sequence = sequence;
        _step = step;
        Save(h, c, gates, output);
    }

    public static Tensor Apply(RecurrentSequence sequence, int step, Tensor h, Tensor c)
    {
        int batch = sequence.Batch, hidden = sequence.Gates / 4;
        if (c.Rank != 2 || c.Size(0) != batch || c.Size(1) != hidden)
            throw new ShapeMismatchException("Lstm", $"cell state {c.Shape} does not match [{batch}, {hidden}]");
        var backend = sequence.ProjectedValues.Backend;
        var input = sequence.ProjectedStep(step);
        var gates = Tensor.Empty(input.Sizes, input.DType, backend);
        var cValues = c.IsContiguous ? c : c.Detach().Contiguous();
        sequence.MultiplyHidden(h, gates, accumulate: false);
        var output = Tensor.Empty([2, batch, hidden], gates.DType, backend);
        backend.LstmCellForward(gates.Strided, input.Strided, sequence.BiasHh?.Strided, cValues.Strided, output.Select(0, 0).Strided,
            output.Select(0, 1).Strided);
        bool record = Autograd.IsRecording(sequence.Token, h) || Autograd.IsRecording(c);
        return record ? new LstmStepOp(sequence, step, h, c, gates, output).Attach(output) : output;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var (h, c) = (Saved(0), Saved(1));
        var s = _sequence;
        if (Autograd.IsGradEnabled)
        {
            var pre = s.Projected.Select(0, _step) + Nn.Functional.Linear(h, s.WeightHh, s.BiasHh);
            var chunks = pre.Chunk(4, -1);
            var (i, f, cand, o) = (chunks[0].Sigmoid(), chunks[1].Sigmoid(), chunks[2].Tanh(), chunks[3].Sigmoid());
            var tanhC = (f * c + i * cand).Tanh();
            var (gh, gc) = (g.Select(0, 0), g.Select(0, 1));
            var total = gc + gh * o * (1.0 - tanhC * tanhC);
            var dPre = Tensor.Cat([total * cand * i * (1.0 - i), total * c * f * (1.0 - f), total * i * (1.0 - cand * cand), gh * tanhC * o * (1.0 - o)], 1);
            if (NeedsGrad(0))
            {
                s.StoreGradients(_step, dPre, dPre);
                grads[0] = Tensor.ZerosLike(s.Token);
            }
            if (NeedsGrad(1)) grads[1] = dPre.MatMul(s.WeightHh);
            if (NeedsGrad(2)) grads[2] = total * f;
            return;
        }
        var (gates, output) = (Saved(2), Saved(3));
        var backend = gates.Backend;
        var gradient = g.IsContiguous ? g : g.Contiguous();
        var dGates = NeedsGrad(0) ? s.InputGradientRows(_step) : Tensor.Empty(gates.Sizes, gates.DType, backend);
        var dc = Tensor.Empty(c.Sizes, c.DType, backend);
        var cValues = c.IsContiguous ? c : c.Contiguous();
        backend.LstmCellBackward(gates.Strided, cValues.Strided, output.Select(0, 1).Strided, gradient.Select(0, 0).Strided,
            gradient.Select(0, 1).Strided, dGates.Strided, dc.Strided);
        if (NeedsGrad(0)) grads[0] = Tensor.ZerosLike(s.Token);
        if (NeedsGrad(1))
        {
            var dh = Tensor.Empty(h.Sizes, h.DType, backend);
            s.MultiplyGradient(dGates, dh, accumulate: false, VisitStamp);
            grads[1] = dh;
        }
        if (NeedsGrad(2)) grads[2] = dc;
    }

    /// <summary>
    /// The step differentiated along its inputs' tangents, the gates recomputed by tensor ops (so the rule is itself
    /// differentiable): with ∂pre = ∂P[t] + ∂h·W_hhᵀ + h·∂W_hhᵀ + ∂b_hh, ∂i = i(1−i)∂pre_i (f, o likewise),
    /// ∂g = (1−g²)∂pre_g, ∂c' = ∂f·c + f·∂c + ∂i·g + i·∂g and ∂h' = ∂o·tanh c' + o(1 − tanh²c')∂c'; the tangent is
    /// stacked as the output is, [∂h', ∂c'].
    /// </summary>
    protected internal override Tensor? Jvp(Tensor[] inputs, Tensor?[] t, Tensor y)
    {
        var s = _sequence;
        var (h, c) = (inputs[1], inputs[2]);
        var dPre = s.PreActivationTangent(_step, h, t[1]);
        if (dPre is null && t[2] is null) return null;
        var chunks = (s.Projected.Select(0, _step) + Nn.Functional.Linear(h, s.WeightHh, s.BiasHh)).Chunk(4, -1);
        var (i, f, g, o) = (chunks[0].Sigmoid(), chunks[1].Sigmoid(), chunks[2].Tanh(), chunks[3].Sigmoid());
        var tanhC = (f * c + i * g).Tanh();
        Tensor? dc = t[2] is { } dcIn ? f * dcIn : null;
        Tensor? dh = null;
        if (dPre is not null)
        {
            var d = dPre.Chunk(4, -1);
            var (di, df, dg, dO) = (i * (1.0 - i) * d[0], f * (1.0 - f) * d[1], (1.0 - g * g) * d[2], o * (1.0 - o) * d[3]);
            dc = ForwardAD.Plus(dc, df * c + di * g + i * dg);
            dh = dO * tanhC;
        }
        dh = ForwardAD.Plus(dh, o * (1.0 - tanhC * tanhC) * dc!);
        return Tensor.Stack([dh!, dc!]);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases => RecurrentGradcheck.LstmCases;
}
