namespace Backprop.Nn;

/// <summary>
/// State of a recurrent layer: Hidden is [numLayers * numDirections, batch, outSize]; Cell is the LSTM's cell state,
/// null for Rnn and Gru. (Contract C1 of branch h-seq-core, which provides the real type.)
/// </summary>
public sealed class RecurrentState
{
    public RecurrentState(Tensor hidden, Tensor? cell = null)
    {
        ArgumentNullException.ThrowIfNull(hidden);
        Hidden = hidden;
        Cell = cell;
    }

    public Tensor Hidden { get; }

    public Tensor? Cell { get; }

    /// <summary>The same values, cut from the graph (for truncated BPTT).</summary>
    public RecurrentState Detach() => new(Hidden.Detach(), Cell?.Detach());
}
