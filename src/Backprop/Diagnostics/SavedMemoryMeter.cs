namespace Backprop.Diagnostics;

/// <summary>
/// A live count of the bytes held for backward while it runs: every storage that a recorded op saves (or that a
/// gradient checkpoint recomputes) is counted once from the moment it is saved until the last node holding it is
/// released by backward, and the peak is kept. Parameters (leaves that require grad) are not counted: the model
/// holds them whether or not a graph does. The live figure of <see cref="SavedTensorReport"/> over a whole step.
/// </summary>
/// <example><code>
/// using (var meter = SavedMemoryMeter.Start())
/// {
///     model.Forward(x).Sum().Backward();
///     Console.WriteLine(SavedTensorReport.FormatBytes(meter.PeakBytes));
/// }
/// </code></example>
/// <remarks>
/// A meter counts what is saved and released on the thread that started it (where a training step records its graph
/// and runs its backward), so work on other threads (other models, tests running in parallel) does not show in it.
/// One meter per thread at a time; tensors saved before it started are not counted.
/// </remarks>
public sealed class SavedMemoryMeter : IDisposable
{
    [ThreadStatic] private static SavedMemoryMeter? t_active;

    // Held briefly by each update; the figures may be read from another thread while a step runs.
    private readonly Lock _lock = new();
    private readonly Dictionary<Storage, int> _holders = new(ReferenceEqualityComparer.Instance);
    private long _liveBytes;
    private long _peakBytes;

    private SavedMemoryMeter()
    {
    }

    internal static SavedMemoryMeter? Active => t_active;

    /// <summary>Starts counting; dispose the meter to stop.</summary>
    public static SavedMemoryMeter Start()
    {
        if (t_active is not null)
            throw new InvalidOperationException("SavedMemoryMeter: a meter is already running on this thread; dispose it before starting another.");
        return t_active = new SavedMemoryMeter();
    }

    /// <summary>Bytes held for backward now.</summary>
    public long LiveBytes
    {
        get
        {
            lock (_lock) return _liveBytes;
        }
    }

    /// <summary>The most bytes held for backward at any moment since the meter started (or <see cref="ResetPeak"/>).</summary>
    public long PeakBytes
    {
        get
        {
            lock (_lock) return _peakBytes;
        }
    }

    /// <summary>Restarts the peak from the bytes held now (e.g. between training steps).</summary>
    public void ResetPeak()
    {
        lock (_lock) _peakBytes = _liveBytes;
    }

    internal void Hold(Tensor tensor)
    {
        if (tensor.IsLeaf && tensor.RequiresGrad) return;
        var storage = tensor.Storage;
        lock (_lock)
        {
            _holders.TryGetValue(storage, out int holders);
            _holders[storage] = holders + 1;
            if (holders > 0) return;
            _liveBytes += storage.Bytes;
            if (_liveBytes > _peakBytes) _peakBytes = _liveBytes;
        }
    }

    internal void Drop(Tensor tensor)
    {
        var storage = tensor.Storage;
        lock (_lock)
        {
            // Storages saved before the meter started (or parameters, never held) are not counted.
            if (!_holders.TryGetValue(storage, out int holders)) return;
            if (holders > 1)
            {
                _holders[storage] = holders - 1;
                return;
            }
            _holders.Remove(storage);
            _liveBytes -= storage.Bytes;
        }
    }

    public void Dispose()
    {
        if (ReferenceEquals(t_active, this)) t_active = null;
    }
}
