using Backprop.Ops;

namespace Backprop.Nn;

/// <summary>One layer-direction's parameters (held here, and registered under PyTorch's names on the module).</summary>
internal sealed record RecurrentWeights(Tensor WeightIh, Tensor WeightHh, Tensor? BiasIh, Tensor? BiasHh, Tensor? WeightHr);

/// <summary>
/// The stacked, optionally bidirectional run the recurrent layers share, on time-major input: each layer-direction
/// projects the input of all steps in one GEMM, then runs one fused step op per time step.
/// </summary>
internal static class RecurrentScan
{
    /// <param name="x">[time, batch, features]</param>
    /// <param name="hidden0">[layers · directions, batch, outSize]</param>
    /// <param name="cell0">[layers · directions, batch, hidden] for the LSTM, else null.</param>
    /// <param name="mask">Bool [time, batch, 1], true where step t lies within sequence b; null when all are full length.</param>
    /// <param name="observer">Sees (t, h_t) of the last layer's forward direction.</param>
    /// <param name="batchFirstOutput">
    /// Stack the last layer's steps as [batch, time, outSize] (contiguous) rather than [time, batch, outSize]: a
    /// batch-first caller then needs no transposed view, which the next Linear would copy forward and backward.
    /// </param>
    public static (Tensor Output, Tensor Hidden, Tensor? Cell) Run(RecurrentCellKind kind, IReadOnlyList<RecurrentWeights> weights, int layers,
        bool bidirectional, Tensor x, Tensor hidden0, Tensor? cell0, Tensor? mask, double dropout = 0, bool training = false,
        Action<int, Tensor>? observer = null, bool batchFirstOutput = false)
    {
        int directions = bidirectional ? 2 : 1;
        var finalHidden = new Tensor[layers * directions];
        var finalCell = cell0 is null ? null : new Tensor[layers * directions];
        var layerInput = x;
        for (int layer = 0; layer < layers; layer++)
        {
            var outputs = new Tensor[directions];
            for (int direction = 0; direction < directions; direction++)
            {
                int index = layer * directions + direction;
                bool last = layer == layers - 1;
                var (output, h, c) = Direction(kind, layerInput, weights[index], hidden0.Select(0, index), cell0?.Select(0, index), mask,
                    reverse: direction == 1, last && direction == 0 ? observer : null, last && batchFirstOutput ? 1 : 0);
                outputs[direction] = output;
                finalHidden[index] = h;
                if (finalCell is not null) finalCell[index] = c!;
            }
            layerInput = directions == 1 ? outputs[0] : Tensor.Cat(outputs, -1);
            if (layer < layers - 1 && dropout > 0) layerInput = Functional.Dropout(layerInput, dropout, training);
        }
        return (layerInput, Tensor.Stack(finalHidden), finalCell is null ? null : Tensor.Stack(finalCell));
    }

    /// <summary>
    /// One layer in one direction: returns the output, [time, batch, outSize] or with <paramref name="stackDim"/> 1
    /// [batch, time, outSize], and the final h (and c).
    /// </summary>
    private static (Tensor Output, Tensor H, Tensor? C) Direction(RecurrentCellKind kind, Tensor x, RecurrentWeights weights, Tensor h, Tensor? c,
        Tensor? mask, bool reverse, Action<int, Tensor>? observer, int stackDim)
    {
        int steps = x.Size(0);
        var sequence = new RecurrentSequence(kind, Functional.Linear(x, weights.WeightIh, weights.BiasIh), weights.WeightHh, weights.BiasHh);
        var outputs = new Tensor[steps];
        // The LSTM's h and c travel stacked from step to step (see LstmStepOp), unless an observed h must carry the
        // total gradient or a projection makes h narrower than c: then the output views h of each stacked state.
        var state = kind == RecurrentCellKind.Lstm && weights.WeightHr is null && observer is null ? Tensor.Stack([h, c!]) : null;
        for (int s = 0; s < steps; s++)
        {
            int t = reverse ? steps - 1 - s : s;
            // Rows whose sequence has ended (or, backward in time, not yet begun) keep their state unchanged.
            var live = mask?.Select(0, t);
            if (state is not null)
            {
                var next = sequence.StepPacked(t, state, h);
                state = live is null ? next : Tensor.Where(live, next, state);
                h = state.Select(0, 0);
            }
            else
            {
                var (hNext, cNext) = sequence.Step(t, h, c);
                if (weights.WeightHr is not null) hNext = Functional.Linear(hNext, weights.WeightHr);
                h = live is null ? hNext : Tensor.Where(live, hNext, h);
                c = live is null || cNext is null ? cNext : Tensor.Where(live, cNext, c!);
            }
            observer?.Invoke(t, h);
            outputs[t] = live is null ? h : Tensor.Where(live, h, 0.0);
        }
        return (Tensor.Stack(outputs, stackDim), h, state?.Select(0, 1) ?? c);
    }

    /// <summary>[time, batch, 1] Bool: whether step t lies within sequence b (lengths already checked).</summary>
    public static Tensor StepMask(Tensor lengths, int steps)
    {
        var times = Tensor.Arange(steps, DType.Int64, lengths.Device).Reshape(steps, 1, 1);
        return times.Lt(lengths.Detach().Reshape(1, lengths.Size(0), 1));
    }

    /// <summary>One step of a cell from x [batch, in] and (h, c): the cells' forward.</summary>
    public static (Tensor H, Tensor? C) Cell(RecurrentCellKind kind, Tensor x, Tensor h, Tensor? c, Tensor weightIh, Tensor weightHh,
        Tensor? biasIh, Tensor? biasHh)
    {
        var sequence = new RecurrentSequence(kind, Functional.Linear(x, weightIh, biasIh).Unsqueeze(0), weightHh, biasHh);
        return sequence.Step(0, h, c);
    }
}
