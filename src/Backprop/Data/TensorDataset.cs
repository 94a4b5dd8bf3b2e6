namespace Backprop.Data;

/// <summary>
/// Samples held in memory as tensors sharing their first dimension: sample i is row i of each (e.g. features
/// [N, …] and labels [N]). A batch is gathered with one <see cref="Tensor.IndexSelect"/> per tensor.
/// </summary>
public sealed class TensorDataset : Dataset
{
    private readonly Tensor[] _tensors;

    public TensorDataset(params Tensor[] tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException("TensorDataset: needs at least one tensor.", nameof(tensors));
        for (int i = 0; i < tensors.Length; i++)
        {
            if (tensors[i] is null) throw new ArgumentNullException(nameof(tensors), $"TensorDataset: tensor {i} is null.");
            if (tensors[i].Rank == 0) throw new ShapeMismatchException("TensorDataset", $"tensor {i} is a scalar; samples are indexed along dimension 0");
            if (tensors[i].Size(0) != tensors[0].Size(0))
                throw new ShapeMismatchException("TensorDataset",
                    $"tensors must share their first dimension; tensor 0 has shape {tensors[0].Shape} but tensor {i} has shape {tensors[i].Shape}");
        }
        _tensors = (Tensor[])tensors.Clone();
        Count = tensors[0].Size(0);
    }

    /// <summary>The tensors, in the order given; each sample and batch lists its fields in this order.</summary>
    public IReadOnlyList<Tensor> Tensors => _tensors;

    public override int Count { get; }

    /// <summary>False: a batch is one gather from tensors in memory, cheaper on the consumer's thread than handed over.</summary>
    public override bool PrefetchByDefault => false;

    /// <summary>Row <paramref name="index"/> of each tensor (views, no copy).</summary>
    public override Tensor[] this[int index]
    {
        get
        {
            CheckIndex(index);
            return Array.ConvertAll(_tensors, t => t.Select(0, index));
        }
    }

    public override Tensor[] GetBatch(ReadOnlySpan<int> indices)
    {
        var rows = new long[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            CheckIndex(indices[i]);
            rows[i] = indices[i];
        }
        var index = Tensor.FromArray(rows);
        var batch = new Tensor[_tensors.Length];
        for (int t = 0; t < batch.Length; t++) batch[t] = _tensors[t].IndexSelect(0, index.To(_tensors[t].Device));
        return batch;
    }
}
