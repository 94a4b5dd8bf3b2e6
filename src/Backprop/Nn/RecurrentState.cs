namespace Backprop.Nn;

/// <summary>
/// The state a recurrent layer carries from one step (or one call) to the next. <see cref="Hidden"/> is
/// [numLayers · numDirections, batch, outSize] (outSize is the LSTM's projSize when it has one, else hiddenSize);
/// <see cref="Cell"/> is the LSTM's cell state [numLayers · numDirections, batch, hiddenSize], null for
/// <see cref="Rnn"/> and <see cref="Gru"/>. For unbatched input both lack the batch dimension, as in PyTorch.
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

    /// <summary>The same values cut from the graph: what truncated backpropagation through time carries across chunks.</summary>
    public RecurrentState Detach() => new(Hidden.Detach(), Cell?.Detach());
}

/// <summary>Any module that maps a sequence and an optional initial state to (output, final state).</summary>
public interface IRecurrentModule
{
    (Tensor Output, RecurrentState State) Forward(Tensor input, RecurrentState? state = null);
}

/// <summary>The activation of an Elman <see cref="Rnn"/> or <see cref="RnnCell"/>.</summary>
public enum RnnNonlinearity
{
    Tanh,
    Relu,
}

/// <summary>
/// What a recurrent layer's forward pass takes: the sequence, optional Int64 lengths [batch] (sequences padded to the
/// longest) and an optional initial state. Callers use the layer's <c>Forward(input, state)</c> and
/// <c>Forward(input, lengths, state)</c> overloads; this is the module's input type for hooks.
/// </summary>
public readonly record struct RecurrentInput(Tensor Input, Tensor? Lengths, RecurrentState? State);
