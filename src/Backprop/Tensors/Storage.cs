namespace Backprop;

/// <summary>
/// A flat buffer of elements on one device. Tensors are strided views onto a storage; several tensors
/// (a tensor and its reshapes, transposes, slices) can share one.
/// </summary>
public abstract class Storage
{
    private static long s_serials;

    protected Storage(DType dtype, int length)
    {
        DType = dtype;
        Length = length;
        Serial = Interlocked.Increment(ref s_serials);
    }

    /// <summary>
    /// Allocation order: gradient checkpointing tells the tensors a region created (recomputed in backward) from
    /// those that existed before it (inputs, parameters: kept, since something else holds them anyway).
    /// </summary>
    internal readonly long Serial;

    /// <summary>The serial the next storage allocated will exceed.</summary>
    internal static long LatestSerial => Volatile.Read(ref s_serials);

    public DType DType { get; }

    /// <summary>Number of elements (not bytes).</summary>
    public int Length { get; }

    public long Bytes => (long)Length * DType.ElementSize();

    public abstract IBackend Backend { get; }

    public Device Device => Backend.Device;

    /// <summary>
    /// Bumped by every in-place write through any view of this storage. Autograd compares it with the version
    /// recorded when a tensor was saved for backward, so a backward never reads data that changed under it.
    /// </summary>
    internal int Version;

    /// <summary>
    /// The in-place op that made the latest version bump: its name (a constant string) when the library called it, or a
    /// <see cref="InPlaceCall"/> naming the user's line too. One field, so every storage stays as small as it was.
    /// </summary>
    internal object? LastWriter;

    /// <summary>
    /// Counts writes recorded on the graph (in-place ops while recording): a view made before the latest one reads
    /// stale history and rebuilds it from its base (see Note [Writes into views]).
    /// </summary>
    internal int GraphWrites;
}
