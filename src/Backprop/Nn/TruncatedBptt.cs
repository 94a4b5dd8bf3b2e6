using Backprop.Optim;

namespace Backprop.Nn;

/// <summary>What a <see cref="TruncatedBptt"/> run did: the loss of each chunk, and the final state, cut from the graph.</summary>
/// <param name="State">The state after the last time step, detached: pass it to the next <see cref="TruncatedBptt.Run"/> to go on
/// along the same stream (the next batch of a long text).</param>
public sealed record TruncatedBpttResult(IReadOnlyList<double> Losses, RecurrentState State);

/// <summary>
/// Truncated backpropagation through time, TBPTT(k1, k2) of Williams and Peng (1990): walks a long sequence in chunks of
/// <see cref="K1"/> steps, carries the recurrent state from chunk to chunk, and after each chunk backpropagates its loss
/// through the last <see cref="K2"/> steps only, then updates the parameters. Memory and time per update depend on k2,
/// not on the length of the sequence. Works with any <see cref="IRecurrentModule"/>.
/// </summary>
/// <remarks>
/// <para>With k1 = k2 (the usual choice) this is the loop users write by hand (<c>h = h.Detach()</c> before each chunk),
/// without its two classic mistakes: forgetting the detach (the second backward then runs into the freed graph of the
/// first chunk, or the graph grows with the sequence) and detaching in the wrong place.</para>
/// <para>With k2 &gt; k1 each update's loss (the last k1 steps) is backpropagated through k2 steps, so errors reach k2 − k1
/// steps further back than the chunk. The k2 − k1 earlier steps were computed by the previous chunk with the parameters
/// of before its update, whose saved tensors that update has since overwritten; so they are computed again, from the
/// state carried at step <c>t − k2</c>, with the current parameters: k2 steps of forward work per k1 steps of sequence,
/// k2/k1 times that of plain BPTT. Dropout inside the module draws fresh masks for the recomputed steps.</para>
/// <code>
/// var tbptt = new TruncatedBptt(k1: 35, batchFirst: true) { MaxGradNorm = 0.25 };
/// var result = tbptt.Run(lstm, inputs, chunk => Functional.CrossEntropy(head.Forward(chunk.Output).Flatten(0, 1),
///     chunk.Steps(targets).Flatten()), optimizer, state);
/// state = result.State;
/// </code>
/// </remarks>
public sealed class TruncatedBptt
{
    /// <param name="k1">Time steps between updates (the chunk length).</param>
    /// <param name="k2">Time steps each update backpropagates through, at least <paramref name="k1"/>; k1 when null. (A short
    /// last chunk of a sequence that k1 does not divide goes k2 − k1 steps back from its first step.)</param>
    /// <param name="batchFirst">Batched input is [batch, time, …] (as a layer built with batchFirst: true takes it); otherwise
    /// [time, batch, …]. Unbatched input [time, …] has time first either way.</param>
    public TruncatedBptt(int k1, int? k2 = null, bool batchFirst = false)
    {
        if (k1 < 1) throw new ArgumentOutOfRangeException(nameof(k1), $"TruncatedBptt: k1 (steps between updates) must be at least 1; got {k1}.");
        int window = k2 ?? k1;
        if (window < k1)
            throw new ArgumentOutOfRangeException(nameof(k2), $"TruncatedBptt: k2 (steps backpropagated through) must be at least k1 = {k1}; got {window}.");
        K1 = k1;
        K2 = window;
        BatchFirst = batchFirst;
    }

    /// <summary>Time steps between updates.</summary>
    public int K1 { get; }

    /// <summary>Time steps each update backpropagates through (at least <see cref="K1"/>).</summary>
    public int K2 { get; }

    public bool BatchFirst { get; }

    /// <summary>
    /// When set, the gradients of the optimizer's parameters are clipped to this total L2 norm after each backward pass
    /// (<see cref="GradientClipping.ClipGradNorm"/>), as recurrent networks usually need.
    /// </summary>
    public double? MaxGradNorm { get; init; }

    /// <summary>The dimension of time in an input of rank <paramref name="rank"/>.</summary>
    public int TimeDimension(int rank) => BatchFirst && rank >= 3 ? 1 : 0;

    /// <summary>
    /// Runs <paramref name="module"/> along <paramref name="input"/>, chunk by chunk: for each chunk, <paramref name="loss"/>
    /// turns the chunk's output into a scalar, which is backpropagated through the last k2 steps; then
    /// <paramref name="afterBackward"/> runs (logging, custom clipping), the gradients are clipped if
    /// <see cref="MaxGradNorm"/> is set, and <paramref name="optimizer"/> steps. The optimizer's gradients are zeroed before
    /// each chunk's backward; without an optimizer the gradients of all chunks add up in the parameters' <c>Grad</c>.
    /// </summary>
    /// <param name="state">The state before the first step (detached here: the run never backpropagates into it); null
    /// lets the module start from its default (zeros).</param>
    public TruncatedBpttResult Run(IRecurrentModule module, Tensor input, Func<TruncatedBpttChunk, Tensor> loss, Optimizer? optimizer = null,
        RecurrentState? state = null, Action<TruncatedBpttChunk>? afterBackward = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(loss);
        if (MaxGradNorm is not null && optimizer is null)
            throw new ArgumentException("TruncatedBptt: MaxGradNorm clips the optimizer's parameters, but no optimizer was given.", nameof(optimizer));
        if (input.Rank == 0) throw new ShapeMismatchException("TruncatedBptt", "the input is a scalar; it needs a time dimension");
        int time = TimeDimension(input.Rank);
        int length = input.Size(time);
        if (length == 0) throw new ShapeMismatchException("TruncatedBptt", $"the input of shape {input.Shape} has no time steps (dimension {time})");

        // Chunk j carries the loss of steps [j·k1, ends[j]) and backpropagates through [starts[j], ends[j]): its own steps
        // and the k2 − k1 before them (so a short last chunk goes back as far as its own steps plus those, and with
        // k1 = k2 the chunks do not overlap). The state at starts[j + 1] is captured while chunk j runs
        // (starts[j] ≤ starts[j + 1] ≤ ends[j] since k2 ≥ k1).
        int chunks = (length + K1 - 1) / K1;
        var ends = Enumerable.Range(0, chunks).Select(j => Math.Min((j + 1) * K1, length)).ToArray();
        var starts = Enumerable.Range(0, chunks).Select(j => Math.Max(0, j * K1 - (K2 - K1))).ToArray();
        var losses = new List<double>(chunks);
        var carried = state?.Detach();
        RecurrentState? final = null;
        for (int j = 0; j < chunks; j++)
        {
            int begin = j * K1, end = ends[j], from = starts[j];
            int next = j + 1 < chunks ? starts[j + 1] : end;
            var outputs = new List<Tensor>(2);
            var current = carried;
            if (next > from && next < end)
            {
                // Two calls, so that the state where the next chunk's window begins is at hand.
                var (early, middle) = module.Forward(input.Narrow(time, from, next - from), current);
                outputs.Add(early);
                carried = middle.Detach();
                current = middle;
                from = next;
            }
            var (output, after) = module.Forward(input.Narrow(time, from, end - from), current);
            outputs.Add(output);
            if (next == end) carried = after.Detach();
            int firstOutput = starts[j];
            if (output.Rank <= time)
                throw new ShapeMismatchException("TruncatedBptt", $"the module's output of shape {output.Shape} has no time dimension {time}");
            var window = outputs.Count == 1 ? outputs[0] : Tensor.Cat(outputs, time);
            var chunk = new TruncatedBpttChunk(j, begin, end - begin, firstOutput, time, window.Narrow(time, begin - firstOutput, end - begin), after);

            var value = loss(chunk) ?? throw new InvalidOperationException($"TruncatedBptt: the loss function returned null for chunk {j}.");
            if (value.NumElements != 1)
                throw new ShapeMismatchException("TruncatedBptt", $"the loss of chunk {j} (steps [{begin}, {end})) has shape {value.Shape}; it must be a scalar");
            if (!value.RequiresGrad)
                throw new InvalidOperationException($"TruncatedBptt: the loss of chunk {j} does not require grad, so it cannot train anything; " +
                                                    "is it computed from the chunk's Output (and not under Autograd.NoGrad)?");
            optimizer?.ZeroGrad();
            value.Backward();
            losses.Add(value.Item());
            afterBackward?.Invoke(chunk);
            if (optimizer is not null)
            {
                if (MaxGradNorm is { } maxNorm) GradientClipping.ClipGradNorm(optimizer.ParamGroups.SelectMany(g => g.Parameters), maxNorm);
                optimizer.Step();
            }
            final = after;
        }
        return new TruncatedBpttResult(losses, final!.Detach());
    }
}
