namespace Backprop.Distributed;

/// <summary>
/// The sample indices of one rank for one epoch (PyTorch's <c>DistributedSampler</c>): the dataset's indices, shuffled
/// by a seed all ranks share plus the epoch, then dealt round-robin, so the ranks' shards are disjoint and together
/// cover the dataset once. Shards have equal length: the list is padded by repeating its start, or with
/// <see cref="DropLast"/> the remainder is dropped.
/// </summary>
public sealed class DistributedSampler
{
    public DistributedSampler(int datasetCount, int ranks, int rank, bool shuffle = true, ulong seed = 0, bool dropLast = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(datasetCount);
        ArgumentOutOfRangeException.ThrowIfLessThan(ranks, 1);
        if ((uint)rank >= (uint)ranks)
            throw new ArgumentOutOfRangeException(nameof(rank), $"DistributedSampler: rank {rank} is not in 0..{ranks - 1}.");
        if (dropLast && datasetCount < ranks)
            throw new ArgumentException($"DistributedSampler: {datasetCount} samples cannot give each of {ranks} ranks one with dropLast.");
        DatasetCount = datasetCount;
        Ranks = ranks;
        Rank = rank;
        Shuffle = shuffle;
        Seed = seed;
        DropLast = dropLast;
        Count = dropLast ? datasetCount / ranks : (datasetCount + ranks - 1) / ranks;
    }

    public int DatasetCount { get; }

    public int Ranks { get; }

    public int Rank { get; }

    public bool Shuffle { get; }

    public ulong Seed { get; }

    public bool DropLast { get; }

    /// <summary>Samples per rank per epoch.</summary>
    public int Count { get; }

    /// <summary>This rank's indices for <paramref name="epoch"/> (the same on every call).</summary>
    public int[] Indices(int epoch)
    {
        var order = new int[DatasetCount];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (Shuffle) new Generator(Seed + (ulong)epoch).Shuffle(order.AsSpan());
        var shard = new int[Count];
        // Padding repeats the shuffled order from its start (as often as needed for tiny datasets).
        for (int i = 0; i < shard.Length; i++) shard[i] = order[(i * Ranks + Rank) % Math.Max(order.Length, 1)];
        return shard;
    }
}
