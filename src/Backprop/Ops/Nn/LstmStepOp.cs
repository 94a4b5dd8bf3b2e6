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
/// Saves the activated gates [B, 4H] (the kernel's workspace), tanh(c') [B, H] and the state it read, so the kernel
/// backward is arithmetic only (recomputing tanh(c') there was most of its time: 6% of the lstm workload's step, on
/// one core, for 3% more saved memory). Its kernel path writes ∂(pre-activations) into the sequence's buffer and returns
/// ∂h = ∂G·W_hh and ∂c = ∂c'·f + …; under createGraph it recomputes the step with tensor ops from the saved inputs
/// and writes the same formulas differentiably. Inputs: the sequence token, then either the state [2, B, H] (h and c
/// stacked, as the previous step's output is) or h [B, outSize] and c [B, H] apart.
/// </remarks>
internal sealed class LstmStepOp : Node, IGradchecked
{
    private readonly RecurrentSequence _sequence;
    private readonly int _step;

    /// <summary>
    /// Whether the state comes in as one [2, B, H] tensor, the previous step's output, rather than as h and c. Then
    /// the next step's backward returns ∂h and ∂c in one exclusive buffer, into which the output's slice of ∂h adds in
    /// place; with h and c apart, each step's backward zero-filled a [2, B, H] gradient for the h view, scattered it in
    /// and summed the two ∂h's into a new tensor (7% of the lstm workload's step). The split form serves an observed
    /// h, whose gradient must be the total one, and the projection, whose h is narrower than c.
    /// </summary>
    private readonly bool _packedState;

    private LstmStepOp(RecurrentSequence sequence, int step, ReadOnlySpan<Tensor> state, Tensor gates, Tensor tanhCell)
        : base([sequence.Token, .. state])
    {
        _sequence = sequence;
        _step = step;
        _packedState = state.Length == 1;
        Save([.. state, gates, tanhCell]);
    }

    /// <summary>One step from h [B, outSize] and c [B, H]; returns [2, B, H]: h' then c'.</summary>
    public static Tensor Apply(RecurrentSequence sequence, int step, Tensor h, Tensor c) => Run(sequence, step, h, c, [h, c]);

    /// <summary>One step from the previous step's [2, B, H] output (or the stacked initial state); returns the next.</summary>
    public static Tensor ApplyPacked(RecurrentSequence sequence, int step, Tensor state) =>
        Run(sequence, step, state.Detach().Select(0, 0), state.Detach().Select(0, 1), [state]);

    private static Tensor Run(RecurrentSequence sequence, int step, Tensor h, Tensor c, ReadOnlySpan<Tensor> inputs)
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
        var tanhCell = Tensor.Empty([batch, hidden], gates.DType, backend);
        backend.LstmCellForward(gates.Strided, input.Strided, sequence.BiasHh?.Strided, cValues.Strided, output.Select(0, 0).Strided,
            output.Select(0, 1).Strided, tanhCell.Strided);
        bool record = Autograd.IsRecording(sequence.Token);
        foreach (var t in inputs) record |= Autograd.IsRecording(t);
        return record ? new LstmStepOp(sequence, step, inputs, gates, tanhCell).Attach(output) : output;
    }

    /// <summary>The saved h and c (views of the saved state in the packed form, so a recorded backward reaches it).</summary>
    private (Tensor H, Tensor C) SavedState() => _packedState ? (Saved(0).Select(0, 0), Saved(0).Select(0, 1)) : (Saved(0), Saved(1));

    private int SavedWork => _packedState ? 1 : 2;

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var (h, c) = SavedState();
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
            if (_packedState)
            {
                if (NeedsGrad(1)) grads[1] = Tensor.Stack([dPre.MatMul(s.WeightHh), total * f]);
                return;
            }
            if (NeedsGrad(1)) grads[1] = dPre.MatMul(s.WeightHh);
            if (NeedsGrad(2)) grads[2] = total * f;
            return;
        }
        var (gates, tanhCell) = (Saved(SavedWork), Saved(SavedWork + 1));
        var backend = gates.Backend;
        var gradient = g.IsContiguous ? g : g.Contiguous();
        var dGates = NeedsGrad(0) ? s.InputGradientRows(_step) : Tensor.Empty(gates.Sizes, gates.DType, backend);
        // The packed form's ∂state holds ∂h (the GEMM's) and ∂c (the kernel's) in one buffer, as the output is laid out.
        var dState = _packedState ? Tensor.Empty([2, .. c.Sizes], c.DType, backend) : null;
        var dc = dState?.Select(0, 1) ?? Tensor.Empty(c.Sizes, c.DType, backend);
        var cValues = c.IsContiguous ? c : c.Contiguous();
        backend.LstmCellBackward(gates.Strided, cValues.Strided, tanhCell.Strided, gradient.Select(0, 0).Strided,
            gradient.Select(0, 1).Strided, dGates.Strided, dc.Strided);
        if (NeedsGrad(0)) grads[0] = Tensor.ZerosLike(s.Token);
        if (dState is not null)
        {
            if (!NeedsGrad(1)) return;
            s.MultiplyGradient(dGates, dState.Select(0, 0), accumulate: false, VisitStamp);
            // Fresh and seen by no one else: the output's slice of ∂h may add into it in place.
            dState.IsExclusiveGradient = true;
            grads[1] = dState;
            return;
        }
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
        var (h, c) = _packedState ? (inputs[1].Select(0, 0), inputs[1].Select(0, 1)) : (inputs[1], inputs[2]);
        var (th, tc) = _packedState ? (t[1]?.Select(0, 0), t[1]?.Select(0, 1)) : (t[1], t[2]);
        var dPre = s.PreActivationTangent(_step, h, th);
        if (dPre is null && tc is null) return null;
        var chunks = (s.Projected.Select(0, _step) + Nn.Functional.Linear(h, s.WeightHh, s.BiasHh)).Chunk(4, -1);
        var (i, f, g, o) = (chunks[0].Sigmoid(), chunks[1].Sigmoid(), chunks[2].Tanh(), chunks[3].Sigmoid());
        var tanhC = (f * c + i * g).Tanh();
        Tensor? dc = tc is { } dcIn ? f * dcIn : null;
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
