namespace Backprop.IO;

/// <summary>
/// Named tensors plus string metadata: the unit that model, optimizer and scheduler state is written into and read
/// back from. Components add their entries under a prefix (<c>"model."</c>, <c>"optimizer."</c>), so one checkpoint
/// holds a whole training run.
/// </summary>
public sealed partial class Checkpoint
{
    public Dictionary<string, Tensor> Tensors { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
}

/// <summary>Something whose state a checkpoint can hold (optimizers, schedulers, trainers).</summary>
public interface ICheckpointable
{
    /// <summary>Adds this object's state to <paramref name="checkpoint"/>, every key starting with <paramref name="prefix"/>.</summary>
    void SaveState(Checkpoint checkpoint, string prefix);

    /// <summary>Restores the state saved under <paramref name="prefix"/>; throws naming the key when something is missing or mis-shaped.</summary>
    void LoadState(Checkpoint checkpoint, string prefix);
}
