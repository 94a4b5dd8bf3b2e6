namespace Backprop.Backends.Cpu;

/// <summary>
/// Reuses the large arrays behind CPU tensors. A training step allocates the same activation and gradient buffers
/// every time; fresh, each would land on the large-object heap and every few such allocations the runtime would run
/// a full (gen2) collection and fault in new pages. Tensors have no Dispose, so the pool learns that a buffer is free
/// the way the GC does: each rented array is tracked with a weak reference to the storage that holds it. After every
/// <see cref="ReclaimAfterBytes"/> rented, the pool runs a young-generation collection (cheap: step-local tensors are
/// young and few survive) and takes back the arrays whose storages died.
/// </summary>
/// <remarks>
/// A storage can become unreachable while a kernel still works on its array (the kernel holds the array, not the
/// storage, and another thread — a data loader — may trigger a pass meanwhile). So an array found dead is
/// quarantined for one pass and handed out again only after the next one, a whole reclaim cycle later.
/// </remarks>
internal static class CpuMemoryPool
{
    /// <summary>Arrays smaller than this are ordinary allocations: the young generation handles them well.</summary>
    public const int MinPooledBytes = 64 * 1024;

    /// <summary>Single arrays larger than this (whole datasets) are not pooled.</summary>
    public const long MaxPooledBytes = 64L * 1024 * 1024;

    private static readonly object Gate = new();
    private static readonly Dictionary<(Type, int), Stack<Array>> Free = new();
    private static readonly List<(WeakReference<Storage> Owner, Array Buffer)> Rented = new();
    private static List<Array> s_quarantine = new();
    private static long s_bytesSinceReclaim;
    private static int s_reclaiming;
    private static long s_freeBytes;

    /// <summary>
    /// Bytes rented between two reclaim passes. The pool holds about twice this beyond what is alive (one cycle free,
    /// one in quarantine). Default 32 MiB.
    /// </summary>
    public static long ReclaimAfterBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>How many reclaim passes have run, and how many arrays they took back (for tests and diagnostics).</summary>
    public static (int Passes, long Arrays, int Tracked) Statistics
    {
        get { lock (Gate) return (s_passes, s_reclaimedArrays, Rented.Count); }
    }

    private static int s_passes;
    private static long s_reclaimedArrays;

    /// <summary>Total bytes sitting unused in the pool, for tests and diagnostics.</summary>
    public static long FreeBytes
    {
        get { lock (Gate) return s_freeBytes; }
    }

    /// <summary>Bytes of every array the pool references: free, quarantined, and handed out (alive or not yet reclaimed).</summary>
    public static long RetainedBytes
    {
        get
        {
            lock (Gate)
            {
                long bytes = s_freeBytes;
                foreach (var a in s_quarantine) bytes += Bytes(a);
                foreach (var (_, a) in Rented) bytes += Bytes(a);
                return bytes;
            }
        }
    }

    private static long Bytes(Array a) => System.Runtime.InteropServices.Marshal.SizeOf(a.GetType().GetElementType()!) * (long)a.Length;

    public static bool ShouldPool<T>(int length) where T : unmanaged
    {
        long bytes = (long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        return bytes >= MinPooledBytes && bytes <= MaxPooledBytes;
    }

    /// <summary>A storage over a pooled array of exactly <paramref name="length"/> elements (cleared when <paramref name="zeroed"/>).</summary>
    public static CpuStorage<T> Rent<T>(int length, bool zeroed) where T : unmanaged
    {
        long bytes = (long)length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        T[]? array;
        bool reclaim;
        lock (Gate)
        {
            // Every rent counts, reused or fresh: the arrays handed out since the last pass are the ones that die next.
            s_bytesSinceReclaim += bytes;
            array = TakeFree<T>(length, bytes);
            reclaim = array is null && s_bytesSinceReclaim >= ReclaimAfterBytes;
        }
        if (reclaim && Interlocked.Exchange(ref s_reclaiming, 1) == 0)
        {
            // One pass at a time; a thread that finds one running just allocates.
            try { Reclaim(); }
            finally { Volatile.Write(ref s_reclaiming, 0); }
            lock (Gate) array = TakeFree<T>(length, bytes);
        }
        if (array is null) array = zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        else if (zeroed) Array.Clear(array);

        var storage = new CpuStorage<T>(array);
        lock (Gate) Rented.Add((new WeakReference<Storage>(storage), array));
        return storage;
    }

    private static T[]? TakeFree<T>(int length, long bytes)
    {
        if (!Free.TryGetValue((typeof(T), length), out var stack) || stack.Count == 0) return null;
        s_freeBytes -= bytes;
        return (T[])stack.Pop();
    }

    /// <summary>
    /// Collects the young generations and returns the arrays of every storage that died to the free lists. When that
    /// recovers less than half of what was rented since the last pass (storages that lived through earlier
    /// collections have been promoted), it runs one full collection as well.
    /// </summary>
    public static void Reclaim()
    {
        long rented;
        List<Array> released;
        lock (Gate)
        {
            rented = s_bytesSinceReclaim;
            released = s_quarantine;
            s_quarantine = new List<Array>();
        }
        GC.Collect(1, GCCollectionMode.Forced, blocking: true);
        if (TakeBackDead() < rented / 2)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            TakeBackDead();
        }
        lock (Gate)
        {
            foreach (var buffer in released) MakeFree(buffer);
            s_bytesSinceReclaim = 0;
            s_passes++;
        }
    }

    private static void MakeFree(Array buffer)
    {
        var element = buffer.GetType().GetElementType()!;
        var key = (element, buffer.Length);
        if (!Free.TryGetValue(key, out var stack)) Free[key] = stack = new Stack<Array>();
        stack.Push(buffer);
        s_freeBytes += Bytes(buffer);
    }

    private static long TakeBackDead()
    {
        long recovered = 0;
        lock (Gate)
        {
            int kept = 0;
            for (int i = 0; i < Rented.Count; i++)
            {
                var (owner, buffer) = Rented[i];
                if (owner.TryGetTarget(out _))
                {
                    Rented[kept++] = Rented[i];
                    continue;
                }
                s_quarantine.Add(buffer);
                s_reclaimedArrays++;
                recovered += Bytes(buffer);
            }
            Rented.RemoveRange(kept, Rented.Count - kept);
        }
        return recovered;
    }
}
