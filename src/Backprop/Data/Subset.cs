namespace Backprop.Data;

/// <summary>The samples of another dataset at chosen indices, in that order (no data is copied).</summary>
public sealed class Subset : Dataset
{
    private readonly int[] _indices;

    public Subset(Dataset source, IEnumerable<int> indices)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(indices);
        Source = source;
        _indices = indices.ToArray();
        foreach (var i in _indices)
            if ((uint)i >= (uint)source.Count)
                throw new ArgumentOutOfRangeException(nameof(indices), $"Subset: index {i} is out of range for a dataset of {source.Count} samples.");
    }

    public Dataset Source { get; }

    /// <summary>As the source's: the subset gathers from it.</summary>
    public override bool PrefetchByDefault => Source.PrefetchByDefault;

    /// <summary>The indices into <see cref="Source"/>, in this subset's order.</summary>
    public IReadOnlyList<int> Indices => _indices;

    public override int Count => _indices.Length;

    public override Tensor[] this[int index]
    {
        get
        {
            CheckIndex(index);
            return Source[_indices[index]];
        }
    }

    /// <summary>Maps the indices and lets the source gather them, so a subset of a <see cref="TensorDataset"/> keeps its fast path.</summary>
    public override Tensor[] GetBatch(ReadOnlySpan<int> indices)
    {
        var mapped = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex(indices[i]);
            mapped[i] = _indices[indices[i]];
        }
        return Source.GetBatch(mapped);
    }
}
