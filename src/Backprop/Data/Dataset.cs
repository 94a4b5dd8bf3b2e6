namespace Backprop.Data;

/// <summary>
/// A fixed collection of samples, each one tensor per field (for example an image and its label), reachable by index.
/// A <see cref="DataLoader"/> draws batches from it.
/// </summary>
public abstract class Dataset
{
    /// <summary>Number of samples.</summary>
    public abstract int Count { get; }

    /// <summary>
    /// Whether a <see cref="DataLoader"/> left to choose should assemble batches ahead on a thread of its own. True by
    /// default (a sample may come from a file or a transform); false for samples already in memory as tensors, whose
    /// batch is one gather: a thread for that competes with the kernels' own for the cores and costs more than it hides
    /// (on 2 cores, 20–30 ms an epoch of the MNIST recipe's 140).
    /// </summary>
    public virtual bool PrefetchByDefault => true;

    /// <summary>One sample: a tensor per field, without a batch dimension.</summary>
    public abstract Tensor[] this[int index] { get; }

    /// <summary>
    /// The samples at <paramref name="indices"/>, each field stacked along a new first dimension. The default stacks
    /// samples one by one; a dataset that can gather many at once (such as <see cref="TensorDataset"/>) overrides it.
    /// </summary>
    public virtual Tensor[] GetBatch(ReadOnlySpan<int> indices)
    {
        if (indices.IsEmpty) throw new ArgumentException($"{GetType().Name}.GetBatch: a batch needs at least one index.", nameof(indices));
        var samples = new Tensor[indices.Length][];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex(indices[i]);
            samples[i] = this[indices[i]];
            if (samples[i].Length != samples[0].Length)
                throw new InvalidOperationException(
                    $"{GetType().Name}: sample {indices[i]} has {samples[i].Length} fields but sample {indices[0]} has {samples[0].Length}.");
        }
        var fields = new Tensor[samples[0].Length];
        for (int f = 0; f < fields.Length; f++) fields[f] = Tensor.Stack(samples.Select(s => s[f]));
        return fields;
    }

    /// <summary>
    /// Splits the samples at random into two disjoint subsets, the first of <paramref name="firstCount"/> samples and
    /// the second of the rest (a train/validation split). The same generator state gives the same split.
    /// </summary>
    public (Subset First, Subset Second) RandomSplit(int firstCount, Generator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        if (firstCount < 0 || firstCount > Count)
            throw new ArgumentOutOfRangeException(nameof(firstCount), $"RandomSplit: {firstCount} samples asked of a dataset of {Count}.");
        var order = generator.Permutation(Count);
        return (new Subset(this, order[..firstCount]), new Subset(this, order[firstCount..]));
    }

    /// <summary>Throws naming the dataset when <paramref name="index"/> is not a sample index.</summary>
    protected void CheckIndex(int index)
    {
        if ((uint)index >= (uint)Count)
            throw new IndexOutOfRangeException($"{GetType().Name}: index {index} is out of range for {Count} samples.");
    }
}
