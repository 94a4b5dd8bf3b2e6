namespace Backprop.Data;

/// <summary>
/// Samples gathered into tensors with a leading batch dimension, one tensor per dataset field. For the usual
/// (inputs, targets) dataset it deconstructs: <c>foreach (var (x, y) in loader)</c>.
/// </summary>
public sealed class Batch
{
    private readonly Tensor[] _tensors;
    private readonly int[] _indices;

    /// <param name="tensors">One tensor per field, each with <paramref name="indices"/>.Count rows.</param>
    /// <param name="indices">The dataset index of each row.</param>
    public Batch(IReadOnlyList<Tensor> tensors, IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(indices);
        _tensors = tensors.ToArray();
        _indices = indices.ToArray();
        foreach (var t in _tensors)
            if (t.Rank == 0 || t.Size(0) != _indices.Length)
                throw new ShapeMismatchException("Batch", $"a tensor of shape {t.Shape} does not hold {_indices.Length} rows");
    }

    /// <summary>One tensor per dataset field, in the dataset's order.</summary>
    public IReadOnlyList<Tensor> Tensors => _tensors;

    /// <summary>The first field (the model's input).</summary>
    public Tensor Inputs => _tensors[0];

    /// <summary>The second field (the labels or regression targets).</summary>
    public Tensor Targets => _tensors.Length > 1
        ? _tensors[1]
        : throw new InvalidOperationException("Batch: this batch has one field only (its dataset holds inputs without targets).");

    /// <summary>Number of samples in the batch (the last batch of an epoch may be smaller than the batch size).</summary>
    public int Size => _indices.Length;

    /// <summary>The dataset index of each row, in row order.</summary>
    public IReadOnlyList<int> Indices => _indices;

    /// <summary>The batch with every field on <paramref name="device"/> (the same batch when all already are): <c>var (x, y) = batch.To(device);</c>.</summary>
    public Batch To(Device device) => Array.TrueForAll(_tensors, t => t.Device == device) ? this : new Batch(Array.ConvertAll(_tensors, t => t.To(device)), _indices);

    public void Deconstruct(out Tensor inputs, out Tensor targets)
    {
        if (_tensors.Length != 2)
            throw new InvalidOperationException($"Batch: deconstructs into (inputs, targets) only when it has two fields; this one has {_tensors.Length}.");
        inputs = _tensors[0];
        targets = _tensors[1];
    }
}
