namespace Backprop.Distributed;

/// <summary>
/// A fixed set of processes (ranks 0 … <see cref="Size"/>-1) that exchange buffers collectively. MPI implements it
/// (<see cref="MpiProcessGroup"/>); NCCL or Gloo could too. Every collective must be called by every rank, in the same
/// order, with buffers of the same length.
/// </summary>
/// <remarks>
/// Calls on one group are never made concurrently by this library: a group may be driven from one thread at a time,
/// though not always the same one (MPI's <c>MPI_THREAD_SERIALIZED</c>).
/// </remarks>
public interface IProcessGroup : IDisposable
{
    /// <summary>This process's index in the group.</summary>
    int Rank { get; }

    /// <summary>The number of processes in the group.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="values"/>, on every rank, by the elementwise sum over all ranks.</summary>
    void AllReduceSum(Span<float> values);

    /// <inheritdoc cref="AllReduceSum(Span{float})"/>
    void AllReduceSum(Span<double> values);

    /// <summary>Copies <paramref name="values"/> of rank <paramref name="root"/> into every other rank's buffer.</summary>
    void Broadcast(Span<float> values, int root);

    /// <inheritdoc cref="Broadcast(Span{float}, int)"/>
    void Broadcast(Span<double> values, int root);

    /// <inheritdoc cref="Broadcast(Span{float}, int)"/>
    void Broadcast(Span<byte> values, int root);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>Sends <paramref name="values"/> to rank <paramref name="destination"/>; returns when the buffer may be reused.</summary>
    void Send(ReadOnlySpan<float> values, int destination, int tag);

    /// <summary>Receives exactly <c>values.Length</c> floats sent by rank <paramref name="source"/> with <paramref name="tag"/>.</summary>
    void Receive(Span<float> values, int source, int tag);
}
