using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// y = x·Wᵀ + b in one node. Fused because it is the hot path of every MLP: one GEMM that starts from the bias, and one
/// node instead of four (transpose, matmul, expand, add).
/// </summary>
internal sealed class LinearOp : Node, IGradchecked
{
    private LinearOp(Tensor x, Tensor weight, Tensor? bias)
        : base(bias is null ? [x, weight] : [x, weight, bias]) =>
        Save(NeedsGrad(1) ? x : null, NeedsGrad(0) ? weight : null);

    /// <param name="x">[..., in]</param>
    /// <param name="weight">[out, in]</param>
    /// <param name="bias">[out] or null</param>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias)
    {
        Tensor.CheckSameDevice("Linear", x, ("the weight", weight), ("the bias", bias));
        if (weight.Rank != 2 || x.Rank == 0 || x.Sizes[^1] != weight.Sizes[1])
            throw new ShapeMismatchException("Linear", $"input {x.Shape} does not match weight {weight.Shape} (expected [..., {(weight.Rank == 2 ? weight.Sizes[1] : -1)}])");
        if (bias is not null && (bias.Rank != 1 || bias.Sizes[0] != weight.Sizes[0]))
            throw new ShapeMismatchException("Linear", $"bias {bias.Shape} does not match weight {weight.Shape} (expected [{weight.Sizes[0]}])");
        if (x.DType != weight.DType) x = x.To(weight.DType);
        int outFeatures = weight.Sizes[0], inFeatures = weight.Sizes[1];
        var x2 = x.Rank == 2 ? x.Strided : x.Detach().Reshape(-1, inFeatures).Strided;
        var y = Tensor.Empty([x2.Shape[0], outFeatures], weight.DType, weight.Backend);
        var backend = y.Backend;
        // The kernels read the weight transposed straight from a view of its storage, and the GEMM starts from the
        // bias: no temporary tensors on the path every MLP layer takes, and y written once (filling y with the bias
        // and accumulating onto it cost the lstm workload's input projection 2% of its step in memory traffic).
        var weightT = new StridedView(weight.Storage, [inFeatures, outFeatures], [weight.StrideArray[1], weight.StrideArray[0]], weight.Offset, false);
        if (bias is null) backend.MatMul(x2, weightT, y.Strided, accumulate: false);
        else backend.MatMulBias(x2, weightT, bias.Strided, y.Strided);
        var output = x.Rank == 2 ? y : new Tensor(y.Storage, [.. x.Sizes[..^1], outFeatures]);
        bool record = Autograd.IsRecording(x, weight) || (bias is not null && Autograd.IsRecording(bias));
        return record ? new LinearOp(x, weight, bias).Attach(output) : output;
    }

    // ∂L/∂x = G·W, ∂L/∂W = Gᵀ·x, ∂L/∂b = Σ over the batch of G: the δ·aᵀ and Σδ of the textbook.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        if (Autograd.BackwardRecords) BackwardWithGraph(g, grads);
        else BackwardKernels(g, grads);
    }

    /// <summary>The same formulas straight on the kernels: the hot path of every training step.</summary>
    private void BackwardKernels(Tensor g, Tensor?[] grads)
    {
        var g2 = g.Rank == 2 ? g : g.Reshape(-1, g.Sizes[^1]);
        var backend = g.Backend;
        if (NeedsGrad(0))
        {
            var w = Saved(1);
            var gx = Tensor.Empty([g2.Sizes[0], w.Sizes[1]], g.DType, backend);
            backend.MatMul(g2.Strided, w.Strided, gx.Strided, accumulate: false);
            grads[0] = g.Rank == 2 ? gx : new Tensor(gx.Storage, [.. g.Sizes[..^1], w.Sizes[1]]);
        }
        if (NeedsGrad(1))
        {
            var x = Saved(0);
            var x2 = x.Rank == 2 ? x : x.Reshape(-1, x.Sizes[^1]);
            var gw = Tensor.Empty([g2.Sizes[1], x2.Sizes[1]], g.DType, backend);
            backend.MatMul(Transposed(g2.Strided), x2.Strided, gw.Strided, accumulate: false);
            gw.IsExclusiveGradient = true;
            grads[1] = gw;
        }
        if (InputCount > 2 && NeedsGrad(2))
        {
            var gb = Tensor.Empty([1, g2.Sizes[1]], g.DType, backend);
            backend.Reduce(ReduceOp.Sum, g2.Strided, gb.Strided);
            grads[2] = new Tensor(gb.Storage, [g2.Sizes[1]]) { IsExclusiveGradient = true };
        }
    }

    private static StridedView Transposed(in StridedView m) =>
        new(m.Storage, [m.Shape[1], m.Shape[0]], [m.Strides[1], m.Strides[0]], m.Offset, false);

    private void BackwardWithGraph(Tensor g, Tensor?[] grads)
    {
        var g2 = g.Rank == 2 ? g : g.Reshape(-1, g.Sizes[^1]);
        if (NeedsGrad(0))
        {
            var gx = Tensor.MatMul(g2, Saved(1));
            grads[0] = g.Rank == 2 ? gx : gx.Reshape([.. g.Sizes[..^1], gx.Sizes[1]]);
        }
        if (NeedsGrad(1))
        {
            var x = Saved(0);
            var x2 = x.Rank == 2 ? x : x.Reshape(-1, x.Sizes[^1]);
            grads[1] = Tensor.MatMul(g2.T, x2);
        }
        if (InputCount > 2 && NeedsGrad(2)) grads[2] = g2.Sum(0);
    }

    // dx·Wᵀ + x·dWᵀ + db.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var viaInput = t[0] is { } tx ? Apply(tx, x[1], null) : null;
        var viaWeight = t[1] is { } tw ? Apply(x[0], tw, null) : null;
        var viaBias = x.Length > 2 && t[2] is { } tb ? tb.ExpandTo(y.Sizes) : null;
        return ForwardAD.Plus(ForwardAD.Plus(viaInput, viaWeight), viaBias);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Linear", x => Nn.Functional.Linear(x[0], x[1], x[2]), [4, 3], [2, 3], [2]),
        new("Linear no bias", x => Nn.Functional.Linear(x[0], x[1]), [4, 3], [5, 3]),
        new("Linear batched input", x => Nn.Functional.Linear(x[0], x[1], x[2]), [2, 3, 4], [2, 4], [2]),
        new("Linear transposed input", x => Nn.Functional.Linear(x[0], x[1], x[2]), GradcheckInput.Transposed(3, 4), GradcheckInput.Strided(2, 4), [2]),
    ];
}
