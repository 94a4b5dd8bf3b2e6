using System.Collections.Concurrent;

namespace Backprop.Distributed;

/// <summary>
/// Ranks that are threads of one process, for tests and experiments without MPI: <see cref="Create"/> returns one
/// group per rank; run each rank's code on its own thread. Sums add the ranks' values in rank order.
/// </summary>
public sealed class LocalProcessGroup : IProcessGroup
{
    private readonly Shared _shared;

    private sealed class Shared(int size)
    {
        public readonly Barrier Barrier = new(size);
        public readonly Array?[] Slots = new Array?[size];
        public readonly ConcurrentDictionary<(int Source, int Destination, int Tag), BlockingCollection<float[]>> Mailboxes = new();
    }

    private LocalProcessGroup(Shared shared, int rank, int size)
    {
        _shared = shared;
        Rank = rank;
        Size = size;
    }

    /// <summary>The <paramref name="size"/> ranks of a new group, indexed by rank.</summary>
    public static LocalProcessGroup[] Create(int size)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        var shared = new Shared(size);
        return [.. Enumerable.Range(0, size).Select(rank => new LocalProcessGroup(shared, rank, size))];
    }

    public int Rank { get; }

    public int Size { get; }

    public void AllReduceSum(Span<float> values) => AllReduce(values);

    public void AllReduceSum(Span<double> values) => AllReduce(values);

    public void Broadcast(Span<float> values, int root) => BroadcastCore(values, root);

    public void Broadcast(Span<double> values, int root) => BroadcastCore(values, root);

    public void Broadcast(Span<byte> values, int root) => BroadcastCore(values, root);

    public void Barrier() => _shared.Barrier.SignalAndWait();

    public void Send(ReadOnlySpan<float> values, int destination, int tag) =>
        Mailbox(Rank, destination, tag).Add(values.ToArray());

    public void Receive(Span<float> values, int source, int tag)
    {
        var message = Mailbox(source, Rank, tag).Take();
        if (message.Length != values.Length)
            throw new InvalidOperationException($"Receive: rank {source} sent {message.Length} values with tag {tag}; rank {Rank} expected {values.Length}.");
        message.CopyTo(values);
    }

    public void Dispose()
    {
    }

    private BlockingCollection<float[]> Mailbox(int source, int destination, int tag)
    {
        if ((uint)source >= (uint)Size || (uint)destination >= (uint)Size)
            throw new ArgumentOutOfRangeException(nameof(destination), $"Send/Receive: ranks {source} → {destination} are not both in the group of {Size}.");
        return _shared.Mailboxes.GetOrAdd((source, destination, tag), _ => new BlockingCollection<float[]>());
    }

    private void AllReduce<T>(Span<T> values) where T : unmanaged, System.Numerics.IAdditionOperators<T, T, T>
    {
        var shared = _shared;
        shared.Slots[Rank] = values.ToArray();
        shared.Barrier.SignalAndWait();
        var sum = new T[values.Length];
        for (int r = 0; r < Size; r++)
        {
            var contribution = shared.Slots[r] as T[] ?? throw new InvalidOperationException($"AllReduceSum: rank {r} reduced another element type.");
            if (contribution.Length != values.Length)
                throw new InvalidOperationException($"AllReduceSum: rank {r} reduced {contribution.Length} values; rank {Rank} {values.Length}.");
            for (int i = 0; i < sum.Length; i++) sum[i] = r == 0 ? contribution[i] : sum[i] + contribution[i];
        }
        // Nobody overwrites a slot for the next collective before every rank has read this one.
        shared.Barrier.SignalAndWait();
        sum.CopyTo(values);
    }

    private void BroadcastCore<T>(Span<T> values, int root) where T : unmanaged
    {
        if ((uint)root >= (uint)Size) throw new ArgumentOutOfRangeException(nameof(root), $"Broadcast: rank {root} is not in the group of {Size}.");
        var shared = _shared;
        if (Rank == root) shared.Slots[root] = values.ToArray();
        shared.Barrier.SignalAndWait();
        var source = (T[])shared.Slots[root]!;
        if (source.Length != values.Length)
            throw new InvalidOperationException($"Broadcast: rank {root} sent {source.Length} values; rank {Rank} expected {values.Length}.");
        if (Rank != root) source.CopyTo(values);
        shared.Barrier.SignalAndWait();
    }
}
