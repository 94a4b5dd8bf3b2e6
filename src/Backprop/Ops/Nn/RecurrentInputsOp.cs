using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// The sink of one recurrent layer-direction (see Note [Recurrent gradients through one sink] on
/// <see cref="RecurrentSequence"/>): its inputs are the projected inputs P [T, B, G·H], W_hh and b_hh; its output
/// is a one-element token every step op takes. Its backward returns ∂P (the steps' buffer), ∂W_hh = Σ_t ∂G_tᵀ·h_{t−1}
/// as one GEMM over all steps and ∂b_hh = Σ ∂G_t.
/// </summary>
internal sealed class RecurrentInputsOp : Node, IGradchecked
{
    private readonly RecurrentSequence _sequence;

    private RecurrentInputsOp(RecurrentSequence sequence)
        : base(sequence.BiasHh is null ? [sequence.Projected, sequence.WeightHh] : [sequence.Projected, sequence.WeightHh, sequence.BiasHh]) =>
        _sequence = sequence;

    public static Tensor Apply(RecurrentSequence sequence)
    {
        var token = Tensor.Zeros(new Shape(1), sequence.Projected.DType, sequence.Projected.Device);
        var node = new RecurrentInputsOp(sequence);
        sequence.Sink = node;
        return node.Attach(token);
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var s = _sequence;
        var (input, hidden, inputs, hiddens) = s.TakeGradients();
        int rows = s.Steps * s.Batch, outSize = s.WeightHh.Size(1);
        if (inputs is not null)
        {
            // createGraph: differentiable tensor ops over the steps' stored gradients (zeros where a step got none).
            Tensor Stacked(Tensor?[] list) => Tensor.Stack(list.Select(t => t ?? Tensor.Zeros(new Shape(s.Batch, s.Gates), s.Projected.DType, s.Projected.Device)));
            var dInput = Stacked(inputs);
            var dHidden = ReferenceEquals(inputs, hiddens) ? dInput : Stacked(hiddens!);
            if (NeedsGrad(0)) grads[0] = dInput;
            var dHidden2 = dHidden.Reshape(rows, s.Gates);
            if (NeedsGrad(1)) grads[1] = dHidden2.T.MatMul(Tensor.Stack(s.PreviousHidden).Reshape(rows, outSize));
            if (InputCount > 2 && NeedsGrad(2)) grads[2] = dHidden2.Sum(0);
            return;
        }
        if (input is null) return;
        if (NeedsGrad(0)) grads[0] = input;
        var backend = input.Backend;
        var gates2 = new StridedView(hidden!.Storage, [rows, s.Gates], [s.Gates, 1], hidden.Offset, true);
        if (NeedsGrad(1))
        {
            // All h_{t−1} in one [T·B, outSize] matrix: one GEMM with K = T·B instead of T with K = B.
            var previous = Tensor.Empty([rows, outSize], input.DType, backend);
            for (int t = 0; t < s.Steps; t++)
                backend.Copy(s.PreviousHidden[t].Strided, previous.Narrow(0, t * s.Batch, s.Batch).Strided);
            var gw = Tensor.Empty([s.Gates, outSize], input.DType, backend);
            backend.MatMul(new StridedView(gates2.Storage, [s.Gates, rows], [1, s.Gates], gates2.Offset, false), previous.Strided, gw.Strided, accumulate: false);
            gw.IsExclusiveGradient = true;
            grads[1] = gw;
        }
        if (InputCount > 2 && NeedsGrad(2))
        {
            var gb = Tensor.Empty([1, s.Gates], input.DType, backend);
            backend.Reduce(ReduceOp.Sum, gates2, gb.Strided);
            grads[2] = new Tensor(gb.Storage, [s.Gates]) { IsExclusiveGradient = true };
        }
    }

    /// <summary>
    /// The token's value is always 0, so its tangent is a zero; it is given one (rather than none) whenever P, W_hh or
    /// b_hh carries a tangent, so that every step op sees a dual input and runs its rule, which reads those tangents
    /// from the sequence (<see cref="RecurrentSequence.PreActivationTangent"/>).
    /// </summary>
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) =>
        t.Any(tangent => tangent is not null) ? Tensor.ZerosLike(y) : null;

    /// <summary>Also lets go of the h_{t−1} the sequence kept for ∂W_hh (the steps saved them too, and are released first).</summary>
    internal override void Release()
    {
        base.Release();
        _sequence.Release();
    }

    public static IEnumerable<GradcheckCase> GradcheckCases => RecurrentGradcheck.SequenceCases;
}
