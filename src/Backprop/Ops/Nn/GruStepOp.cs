using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// One GRU time step in one node, PyTorch's formulation: r, z = σ(P_rz[t] + (h·W_hhᵀ + b_hh)_rz),
/// n = tanh(P_n[t] + r·(h·W_hnᵀ + b_hn)), h' = n + z·(h − n) = (1 − z)·n + z·h.
/// </summary>
/// <remarks>
/// Saves h and the kernel's workspace [B, 4H] (r, z, n and h·W_hnᵀ + b_hn). The gradients of the input part and of
/// the hidden part differ in the n gate (r scales only the hidden part), so the sequence keeps two buffers for it.
/// Under createGraph the backward recomputes the step with tensor ops from h and writes the formulas differentiably.
/// </remarks>
internal sealed class GruStepOp : Node, IGradchecked
{
    private readonly RecurrentSequence _sequence;
    private readonly int _step;

    private GruStepOp(RecurrentSequence sequence, int step, Tensor h, Tensor workspace) : base(sequence.Token, h)
    {
        _sequence = sequence;
        _step = step;
        Save(h, workspace);
    }

    public static Tensor Apply(RecurrentSequence sequence, int step, Tensor h)
    {
        int batch = sequence.Batch, hidden = sequence.Gates / 3;
        var backend = sequence.ProjectedValues.Backend;
        var hiddenGates = Tensor.Empty([batch, 3 * hidden], h.DType, backend);
        sequence.MultiplyHidden(h, hiddenGates, accumulate: false);
        var hValues = h.IsContiguous ? h : h.Detach().Contiguous();
        var output = Tensor.Empty([batch, hidden], h.DType, backend);
        var workspace = Tensor.Empty([batch, 4 * hidden], h.DType, backend);
        backend.GruCellForward(sequence.ProjectedStep(step).Strided, hiddenGates.Strided, sequence.BiasHh?.Strided, hValues.Strided,
            output.Strided, workspace.Strided);
        return Autograd.IsRecording(sequence.Token, h) ? new GruStepOp(sequence, step, h, workspace).Attach(output) : output;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var h = Saved(0);
        var s = _sequence;
        if (Autograd.IsGradEnabled)
        {
            var x = s.Projected.Select(0, _step).Chunk(3, -1);
            var hh = Nn.Functional.Linear(h, s.WeightHh, s.BiasHh).Chunk(3, -1);
            var r = (x[0] + hh[0]).Sigmoid();
            var z = (x[1] + hh[1]).Sigmoid();
            var n = (x[2] + r * hh[2]).Tanh();
            var dn = g * (1.0 - z) * (1.0 - n * n);
            var dr = dn * hh[2] * r * (1.0 - r);
            var dz = g * (h - n) * z * (1.0 - z);
            var dHidden = Tensor.Cat([dr, dz, dn * r], 1);
            if (NeedsGrad(0))
            {
                s.StoreGradients(_step, Tensor.Cat([dr, dz, dn], 1), dHidden);
                grads[0] = Tensor.ZerosLike(s.Token);
            }
            if (NeedsGrad(1)) grads[1] = g * z + dHidden.MatMul(s.WeightHh);
            return;
        }
        var workspace = Saved(1);
        var backend = workspace.Backend;
        var gradient = g.IsContiguous ? g : g.Contiguous();
        var hValues = h.IsContiguous ? h : h.Contiguous();
        var shape = new[] { s.Batch, s.Gates };
        var dInput = NeedsGrad(0) ? s.InputGradientRows(_step) : Tensor.Empty(shape, h.DType, backend);
        var dHiddenGates = NeedsGrad(0) ? s.HiddenGradientRows(_step) : Tensor.Empty(shape, h.DType, backend);
        var dh = Tensor.Empty(h.Sizes, h.DType, backend);
        backend.GruCellBackward(workspace.Strided, hValues.Strided, gradient.Strided, dInput.Strided, dHiddenGates.Strided, dh.Strided);
        if (NeedsGrad(0)) grads[0] = Tensor.ZerosLike(s.Token);
        if (NeedsGrad(1))
        {
            s.MultiplyGradient(dHiddenGates, dh, accumulate: true, VisitStamp);
            grads[1] = dh;
        }
    }

    /// <summary>
    /// The step differentiated along its inputs' tangents, with r, z, n recomputed by tensor ops (so the rule is itself
    /// differentiable): ∂r = r(1−r)(∂x_r + ∂hh_r), ∂z likewise, ∂n = (1−n²)(∂x_n + ∂r·hh_n + r·∂hh_n),
    /// ∂h' = ∂z·(h − n) + (1 − z)·∂n + z·∂h, where x = P[t] and hh = h·W_hhᵀ + b_hh.
    /// </summary>
    protected internal override Tensor? Jvp(Tensor[] inputs, Tensor?[] t, Tensor y)
    {
        var s = _sequence;
        var h = inputs[1];
        var dx = s.InputTangent(_step);
        var dhh = s.HiddenTangent(h, t[1]);
        if (dx is null && dhh is null) return null;
        var x = s.Projected.Select(0, _step).Chunk(3, -1);
        var hidden = Nn.Functional.Linear(h, s.WeightHh, s.BiasHh);
        var hh = hidden.Chunk(3, -1);
        var dxs = (dx ?? Tensor.ZerosLike(hidden)).Chunk(3, -1);
        var dhhs = (dhh ?? Tensor.ZerosLike(hidden)).Chunk(3, -1);
        var r = (x[0] + hh[0]).Sigmoid();
        var z = (x[1] + hh[1]).Sigmoid();
        var n = (x[2] + r * hh[2]).Tanh();
        var dr = r * (1.0 - r) * (dxs[0] + dhhs[0]);
        var dz = z * (1.0 - z) * (dxs[1] + dhhs[1]);
        var dn = (1.0 - n * n) * (dxs[2] + dr * hh[2] + r * dhhs[2]);
        var result = dz * (h - n) + (1.0 - z) * dn;
        return t[1] is { } dh ? result + z * dh : result;
    }

    public static IEnumerable<GradcheckCase> GradcheckCases => RecurrentGradcheck.GruCases;
}
