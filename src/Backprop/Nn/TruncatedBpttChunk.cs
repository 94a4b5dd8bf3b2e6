namespace Backprop.Nn;

/// <summary>
/// One update of <see cref="TruncatedBptt"/>: the time steps whose loss it carries, the module's output for them, and
/// the state after the last of them (both still attached to the graph of the steps backpropagated through).
/// </summary>
public sealed class TruncatedBpttChunk
{
    internal TruncatedBpttChunk(int index, int start, int length, int windowStart, int timeDimension, Tensor output, RecurrentState state)
    {
        Index = index;
        Start = start;
        Length = length;
        WindowStart = windowStart;
        TimeDimension = timeDimension;
        Output = output;
        State = state;
    }

    /// <summary>The chunk's number, 0 for the first.</summary>
    public int Index { get; }

    /// <summary>The first time step whose loss this chunk carries (a multiple of k1).</summary>
    public int Start { get; }

    /// <summary>How many time steps the loss covers: k1, or fewer for the last chunk of a sequence that k1 does not divide.</summary>
    public int Length { get; }

    /// <summary>The first time step backpropagated through: <c>Start − (k2 − k1)</c>, or 0 near the beginning.</summary>
    public int WindowStart { get; }

    /// <summary>The dimension of time in the input and output (1 for batch-first batched input, else 0).</summary>
    public int TimeDimension { get; }

    /// <summary>The module's output for time steps [<see cref="Start"/>, <see cref="Start"/> + <see cref="Length"/>).</summary>
    public Tensor Output { get; }

    /// <summary>The state after time step <c>Start + Length − 1</c>, attached to the graph (a loss on the final state may use it).</summary>
    public RecurrentState State { get; }

    /// <summary>
    /// The same time steps of another per-step tensor laid out like the input (targets, masks):
    /// <paramref name="perStep"/>.Narrow(<see cref="TimeDimension"/>, <see cref="Start"/>, <see cref="Length"/>).
    /// </summary>
    public Tensor Steps(Tensor perStep)
    {
        ArgumentNullException.ThrowIfNull(perStep);
        if (perStep.Rank <= TimeDimension || perStep.Size(TimeDimension) < Start + Length)
            throw new ShapeMismatchException("TruncatedBpttChunk.Steps",
                $"a tensor of shape {perStep.Shape} has no time steps [{Start}, {Start + Length}) along dimension {TimeDimension}");
        return perStep.Narrow(TimeDimension, Start, Length);
    }
}
