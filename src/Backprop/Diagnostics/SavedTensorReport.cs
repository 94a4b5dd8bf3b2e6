using System.Globalization;

namespace Backprop.Diagnostics;

/// <summary>What one node keeps alive for backward.</summary>
public sealed record SavedTensorEntry(Node Node, string? Module, long Bytes, IReadOnlyList<Shape> Shapes);

/// <summary>
/// The memory a graph holds for its backward pass: the bytes each node saved (each storage counted once per node),
/// and the totals per module (as JAX's print_saved_residuals shows residuals). A storage saved by several nodes
/// counts once in <see cref="TotalBytes"/>.
/// </summary>
public sealed class SavedTensorReport
{
    private SavedTensorReport(IReadOnlyList<SavedTensorEntry> entries, long totalBytes)
    {
        Entries = entries;
        TotalBytes = totalBytes;
    }

    public IReadOnlyList<SavedTensorEntry> Entries { get; }

    public long TotalBytes { get; }

    /// <summary>Bytes per module path (nodes created outside any module are under "(no module)").</summary>
    public IReadOnlyList<(string Module, long Bytes)> ByModule => Entries
        .GroupBy(e => e.Module ?? "(no module)")
        .Select(g => (g.Key, g.Sum(e => e.Bytes)))
        .OrderByDescending(g => g.Item2)
        .ToList();

    /// <summary>Reads the saved tensors of the graph behind <paramref name="root"/> (before backward frees them).</summary>
    public static SavedTensorReport Of(Tensor root)
    {
        var entries = new List<SavedTensorEntry>();
        var storages = new HashSet<Storage>(ReferenceEqualityComparer.Instance);
        foreach (var node in GraphWalk.Nodes(root))
        {
            if (node is AccumulateGrad) continue;
            var saved = node.SavedTensors.ToList();
            if (saved.Count == 0) continue;
            foreach (var t in saved) storages.Add(t.Storage);
            entries.Add(new SavedTensorEntry(node, node.Origin?.ModulePath, node.SavedBytes, saved.Select(t => t.Shape).ToList()));
        }
        return new SavedTensorReport(entries, storages.Sum(s => s.Bytes));
    }

    public static string FormatBytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB",
        _ => (bytes / (1024.0 * 1024)).ToString("F2", CultureInfo.InvariantCulture) + " MiB",
    };
}
