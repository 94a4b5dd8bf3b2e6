namespace Backprop.Distributed;

/// <summary>Copies tensors of one rank into the same tensors of every rank, in place.</summary>
public static class TensorBroadcast
{
    /// <summary>
    /// Overwrites every tensor with rank <paramref name="root"/>'s values. All ranks must pass tensors of the same
    /// names, shapes and dtypes in the same order; the shapes are checked first, so a mismatch names the tensor instead
    /// of hanging or scrambling values.
    /// </summary>
    public static void FromRoot(IEnumerable<(string Name, Tensor Tensor)> tensors, IProcessGroup group, int root)
    {
        var list = tensors.ToList();
        if (group.Size == 1) return;
        CheckSameLayout(list, group, root);
        using var _ = Autograd.NoGrad();
        foreach (var (_, tensor) in list)
        {
            // Float32 travels as itself; every other dtype (float64, counters, masks, halves) exactly as float64.
            if (tensor.DType == DType.Float32)
            {
                var values = new float[tensor.NumElements];
                if (group.Rank == root) tensor.CopyTo<float>(values);
                group.Broadcast(values, root);
                if (group.Rank != root) tensor.CopyFrom<float>(values);
            }
            else
            {
                var values = new double[tensor.NumElements];
                if (group.Rank == root) tensor.CopyTo<double>(values);
                group.Broadcast(values, root);
                if (group.Rank != root) tensor.CopyFrom<double>(values);
            }
        }
    }

    private static void CheckSameLayout(List<(string Name, Tensor Tensor)> list, IProcessGroup group, int root)
    {
        // A fingerprint of every name, shape and dtype, compared with the root's (FNV-1a: string.GetHashCode differs
        // from process to process).
        ulong hash = 14695981039346656037;
        void Mix(long value)
        {
            hash ^= (ulong)value;
            hash *= 1099511628211;
        }
        foreach (var (name, t) in list)
        {
            foreach (char c in name) Mix(c);
            Mix((long)t.DType);
            foreach (int d in t.Shape.AsSpan()) Mix(d);
        }
        double[] mine = [hash >> 32, hash & 0xFFFFFFFF, list.Count];
        double[] roots = [.. mine];
        group.Broadcast(roots, root);
        if (!mine.AsSpan().SequenceEqual(roots))
            throw new InvalidOperationException(
                $"Broadcast: rank {group.Rank} has {list.Count} tensors whose names, shapes or dtypes differ from rank {root}'s " +
                $"({(int)roots[2]} tensors): every rank must build the same model.");
    }
}
