using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Backends.Cpu;

/// <summary>
/// Reuses the large arrays behind CPU tensors. A training step allocates the same activation and gradient buffers
/// every time; fresh, each would land on the large-object heap and every few such allocations the runtime would run
/// a full (gen2) collection and fault in new pages. Tensors have no Dispose, so the pool learns that a buffer is free
/// the way the GC does: each rented array is tracked with a weak reference to the storage that holds it. At the end
/// of a backward pass once <see cref="ReclaimAfterBytes"/> have been rented since the last pass, hit or miss (or, in a
/// loop without backward passes, after twice that), the pool runs a pass: a young-generation collection (cheap:
/// step-local tensors are young and few survive), after which it takes back the arrays whose storages died and trims
/// what it keeps idle.
/// </summary>
/// <remarks>
/// <para>
/// A storage can become unreachable while a kernel still works on its array (the kernel holds the array, not the
/// storage, and another thread — a data loader — may trigger a pass meanwhile). So an array found dead is
/// quarantined for one pass and handed out again only after the next one, a whole reclaim cycle later.
/// </para>
/// <para>
/// Idle arrays (free or quarantined) are bounded three ways. A free array that no rent took within
/// <see cref="MaxIdlePasses"/> passes is released to the GC, so the lengths a workload no longer asks for (the shapes
/// of a finished phase) leave the pool while a steady loop, which reuses its arrays every step, keeps them. A length
/// not asked for again since its first array came back (a loop whose shapes vary) keeps its arrays only
/// <see cref="UnrepeatedIdlePasses"/> passes. And the idle bytes never exceed <see cref="IdleLimitBytes"/>: beyond it
/// quarantined arrays go first, then the free arrays unused longest. Releasing is always safe: the pool only drops
/// its own reference.
/// </para>
/// </remarks>
internal static class CpuMemoryPool
{
    /// <summary>Arrays smaller than this are ordinary allocations: the young generation handles them well.</summary>
    public const int MinPooledBytes = 64 * 1024;

    /// <summary>Single arrays larger than this (whole datasets) are not pooled.</summary>
    public const long MaxPooledBytes = 64L * 1024 * 1024;

    /// <summary>The share of the GC's available memory that idle arrays may hold when no limit is set.</summary>
    public const int DefaultIdleLimitDivisor = 8;

    /// <summary>Passes a free array of a length that has not been asked for again since it came back may wait.</summary>
    public const int UnrepeatedIdlePasses = 2;

    /// <summary>
    /// Cycles' worth of fresh arrays after which a pass collects every generation: fresh arrays replace ones the pool
    /// released or are of new lengths, and either way the large-object heap fills with garbage only a full collection
    /// returns. A steady workload allocates none and never pays for it.
    /// </summary>
    private const int FreshCyclesPerFullCollection = 4;

    private readonly record struct IdleArray(Array Buffer, int FreedAtPass);

    /// <summary>What the pool knows of one element type and length.</summary>
    private sealed class LengthRecord
    {
        /// <summary>Free arrays in the order they became free: a rent takes the newest (the end), trimming drops the oldest.</summary>
        public readonly List<IdleArray> Free = new();

        /// <summary>The pass of the latest rent, hit or miss.</summary>
        public int LastRequestPass;

        /// <summary>The pass an array of this length first became free; −1 before.</summary>
        public int FirstFreedPass = -1;

        /// <summary>Asked for again after an array of it came back: the length recurs, as a training loop's do.</summary>
        public bool Repeats;
    }

    /// <summary>Guards the pool's lists and counters.</summary>
    private static readonly object Gate = new();

    /// <summary>Held for a whole pass: two at once would let the second free what the first just quarantined.</summary>
    private static readonly object PassGate = new();
    private static readonly Dictionary<(Type, int), LengthRecord> Lengths = new();
    private static readonly List<(WeakReference<Storage> Owner, Array Buffer)> Rented = new();
    private static List<Array> s_quarantine = new();
    private static long s_bytesSinceReclaim;
    private static long s_freshBytesSinceFullCollection;
    private static int s_gen2CollectionsSeen;
    private static long s_freeBytes;
    private static long s_quarantinedBytes;
    private static int s_passes;
    private static long s_reclaimedArrays;
    private static long s_releasedArrays;
    private static long s_reclaimAfterBytes = 32L * 1024 * 1024;
    private static long s_idleLimitSetting = -1;
    private static int s_maxIdlePasses = 8;

    /// <summary>
    /// Bytes rented before a reclaim pass at the end of a backward pass (twice this without one). The pool holds about
    /// twice this beyond what is alive in a steady training loop (one cycle free, one in quarantine). Default 32 MiB.
    /// </summary>
    public static long ReclaimAfterBytes
    {
        get => Volatile.Read(ref s_reclaimAfterBytes);
        set => Volatile.Write(ref s_reclaimAfterBytes, value);
    }

    /// <summary>
    /// The most bytes of idle (free or quarantined) arrays the pool keeps; a negative value means the default,
    /// 1/<see cref="DefaultIdleLimitDivisor"/> of the memory available to the GC.
    /// </summary>
    public static long IdleLimitSetting
    {
        get => Volatile.Read(ref s_idleLimitSetting);
        set => Volatile.Write(ref s_idleLimitSetting, value);
    }

    /// <summary>The limit in force: <see cref="IdleLimitSetting"/>, or its default.</summary>
    public static long IdleLimitBytes => IdleLimitSetting is >= 0 and var limit ? limit
        : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / DefaultIdleLimitDivisor;

    /// <summary>Passes a free array of a recurring length may go unused before it is released. Default 8.</summary>
    public static int MaxIdlePasses
    {
        get => Volatile.Read(ref s_maxIdlePasses);
        set => Volatile.Write(ref s_maxIdlePasses, value);
    }

    /// <summary>Counters and sizes, for tests and diagnostics.</summary>
    public readonly record struct Snapshot(
        int Passes, long ReclaimedArrays, long ReleasedArrays, int TrackedArrays, long FreeBytes, long QuarantinedBytes)
    {
        /// <summary>Bytes of arrays the pool holds that no tensor uses: free and quarantined.</summary>
        public long IdleBytes => FreeBytes + QuarantinedBytes;
    }

    public static Snapshot Statistics
    {
        get
        {
            lock (Gate) return new(s_passes, s_reclaimedArrays, s_releasedArrays, Rented.Count, s_freeBytes, s_quarantinedBytes);
        }
    }

    /// <summary>Bytes of arrays the pool holds that no tensor uses: free and quarantined.</summary>
    public static long IdleBytes
    {
        get { lock (Gate) return s_freeBytes + s_quarantinedBytes; }
    }

    /// <summary>How many free arrays of <paramref name="length"/> elements of <typeparamref name="T"/> wait for a rent.</summary>
    public static int FreeArrays<T>(int length) where T : unmanaged
    {
        lock (Gate) return Lengths.TryGetValue((typeof(T), length), out var record) ? record.Free.Count : 0;
    }

    private static long Bytes(Array a) => Marshal.SizeOf(a.GetType().GetElementType()!) * (long)a.Length;

    public static bool ShouldPool<T>(int length) where T : unmanaged
    {
        long bytes = (long)length * Unsafe.SizeOf<T>();
        return bytes >= MinPooledBytes && bytes <= MaxPooledBytes;
    }

    /// <summary>A storage over a pooled array of exactly <paramref name="length"/> elements (cleared when <paramref name="zeroed"/>).</summary>
    public static CpuStorage<T> Rent<T>(int length, bool zeroed) where T : unmanaged
    {
        long bytes = (long)length * Unsafe.SizeOf<T>();
        T[]? array;
        bool reclaim;
        lock (Gate)
        {
            // Every rent counts, reused or fresh: the arrays handed out since the last pass are the ones that die next.
            s_bytesSinceReclaim += bytes;
            array = TakeFree<T>(length, bytes, request: true);
            // Training steps run their passes at the ends of backward passes (see AfterBackward); this one is for loops
            // without them, and for steps that rent more than a cycle.
            reclaim = s_bytesSinceReclaim >= 2 * ReclaimAfterBytes;
        }
        // A pass runs on schedule, hit or miss: waiting for a miss let the free lists grow to cover ever longer
        // intervals between passes. One pass at a time; a thread that finds one running goes on without it.
        if (reclaim && Monitor.TryEnter(PassGate))
        {
            try { RunPass(); }
            finally { Monitor.Exit(PassGate); }
            if (array is null) lock (Gate) array = TakeFree<T>(length, bytes, request: false);
        }
        bool fresh = array is null;
        if (array is null) array = zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length);
        else if (zeroed) Array.Clear(array);

        var storage = new CpuStorage<T>(array);
        lock (Gate)
        {
            Rented.Add((new WeakReference<Storage>(storage), array));
            if (fresh) s_freshBytesSinceFullCollection += bytes;
        }
        return storage;
    }

    static CpuMemoryPool() => Engine.BackwardFinished += AfterBackward;

    /// <summary>
    /// Runs a pass at the end of a backward pass once a cycle has been rented since the last one. A training step's
    /// activations are garbage then; a pass on schedule in the middle of the forward instead finds them alive, so its
    /// forced collection promotes them (and their graph) to older generations, where they die and need full
    /// collections. The lstm workload rents about 27 MB a step: a pass (0.7–0.8 ms) every step, most of them in
    /// mid-forward, became one every other step at its end, and its forward and backward took 10% less time.
    /// </summary>
    private static void AfterBackward()
    {
        if (Volatile.Read(ref s_bytesSinceReclaim) < ReclaimAfterBytes || !Monitor.TryEnter(PassGate)) return;
        try { RunPass(); }
        finally { Monitor.Exit(PassGate); }
    }

    /// <summary>Takes the newest free array of the length, if any; a first try for a rent records the request.</summary>
    private static T[]? TakeFree<T>(int length, long bytes, bool request)
    {
        var key = (typeof(T), length);
        if (!Lengths.TryGetValue(key, out var record))
        {
            if (!request) return null;
            Lengths[key] = record = new LengthRecord();
        }
        if (request)
        {
            record.LastRequestPass = s_passes;
            if (record.FirstFreedPass >= 0) record.Repeats = true;
        }
        if (record.Free.Count == 0) return null;
        s_freeBytes -= bytes;
        var taken = record.Free[^1];
        record.Free.RemoveAt(record.Free.Count - 1);
        return (T[])taken.Buffer;
    }

    /// <summary>
    /// One pass: collects the young generations and quarantines the arrays of every storage that died, frees the
    /// arrays quarantined by the previous pass, and trims the idle arrays by age and to the limit. It collects every
    /// generation instead when the young ones recover less than half of what was rented since the last pass (storages
    /// that lived through earlier collections have been promoted), or when <see cref="FreshCyclesPerFullCollection"/>
    /// cycles of fresh arrays have been allocated since the last full collection.
    /// </summary>
    public static void Reclaim()
    {
        lock (PassGate) RunPass();
    }

    private static void RunPass()
    {
        long rented;
        bool full;
        List<Array> released;
        lock (Gate)
        {
            rented = s_bytesSinceReclaim;
            s_bytesSinceReclaim = 0;
            released = s_quarantine;
            s_quarantine = new List<Array>();
            s_quarantinedBytes = 0;
            // A full collection the runtime ran by itself has returned the garbage already.
            if (GC.CollectionCount(2) != s_gen2CollectionsSeen) s_freshBytesSinceFullCollection = 0;
            full = s_freshBytesSinceFullCollection >= FreshCyclesPerFullCollection * ReclaimAfterBytes;
        }
        if (!full)
        {
            GC.Collect(1, GCCollectionMode.Forced, blocking: true);
            full = TakeBackDead() < rented / 2;
        }
        if (full)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            TakeBackDead();
        }
        long limit = IdleLimitBytes;
        lock (Gate)
        {
            if (full) s_freshBytesSinceFullCollection = 0;
            s_gen2CollectionsSeen = GC.CollectionCount(2);
            s_passes++;
            foreach (var buffer in released) MakeFree(buffer);
            TrimByAge();
            TrimToLimit(limit);
        }
    }

    /// <summary>Releases every idle array (free or quarantined) to the GC; arrays in use are untouched.</summary>
    public static void ReleaseIdle()
    {
        lock (Gate)
        {
            foreach (var record in Lengths.Values) s_releasedArrays += record.Free.Count;
            s_releasedArrays += s_quarantine.Count;
            Lengths.Clear();
            s_quarantine = new List<Array>();
            s_freeBytes = 0;
            s_quarantinedBytes = 0;
        }
    }

    private static void MakeFree(Array buffer)
    {
        var key = (buffer.GetType().GetElementType()!, buffer.Length);
        if (!Lengths.TryGetValue(key, out var record)) Lengths[key] = record = new LengthRecord { LastRequestPass = s_passes };
        if (record.FirstFreedPass < 0) record.FirstFreedPass = s_passes;
        record.Free.Add(new IdleArray(buffer, s_passes));
        s_freeBytes += Bytes(buffer);
    }

    /// <summary>
    /// Drops the free arrays no rent took within their length's allowance (<see cref="MaxIdlePasses"/>, or
    /// <see cref="UnrepeatedIdlePasses"/> for a length not asked for again), and forgets the lengths that have no
    /// free array and no request within <see cref="MaxIdlePasses"/>.
    /// </summary>
    private static void TrimByAge()
    {
        int maxIdle = MaxIdlePasses;
        List<(Type, int)>? forgotten = null;
        foreach (var (key, record) in Lengths)
        {
            int oldestKept = s_passes - (record.Repeats ? maxIdle : Math.Min(maxIdle, UnrepeatedIdlePasses));
            var free = record.Free;
            int stale = 0;
            while (stale < free.Count && free[stale].FreedAtPass < oldestKept) s_freeBytes -= Bytes(free[stale++].Buffer);
            if (stale > 0)
            {
                free.RemoveRange(0, stale);
                s_releasedArrays += stale;
            }
            if (free.Count == 0 && record.LastRequestPass < s_passes - maxIdle) (forgotten ??= new()).Add(key);
        }
        if (forgotten is not null) foreach (var key in forgotten) Lengths.Remove(key);
    }

    /// <summary>
    /// Releases idle arrays until their bytes are within <paramref name="limit"/>. Quarantined arrays go first: the
    /// free ones serve the rents of the coming cycle, and dropping those instead would leave each cycle with nothing
    /// to reuse (the GC keeps a dropped quarantined array alive for any kernel still using it). Then, should the free
    /// arrays alone exceed the limit, those that have waited longest.
    /// </summary>
    private static void TrimToLimit(long limit)
    {
        while (s_freeBytes + s_quarantinedBytes > limit && s_quarantine.Count > 0)
        {
            s_quarantinedBytes -= Bytes(s_quarantine[^1]);
            s_quarantine.RemoveAt(s_quarantine.Count - 1);
            s_releasedArrays++;
        }
        if (s_freeBytes <= limit) return;
        var byAge = new List<(int FreedAtPass, LengthRecord Record)>();
        foreach (var record in Lengths.Values)
            foreach (var idle in record.Free) byAge.Add((idle.FreedAtPass, record));
        // Each record's list is oldest first, so the k-th entry of a record in this order is its list's head then.
        byAge.Sort((a, b) => a.FreedAtPass.CompareTo(b.FreedAtPass));
        foreach (var (_, record) in byAge)
        {
            if (s_freeBytes <= limit) break;
            s_freeBytes -= Bytes(record.Free[0].Buffer);
            record.Free.RemoveAt(0);
            s_releasedArrays++;
        }
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
                long bytes = Bytes(buffer);
                s_quarantinedBytes += bytes;
                recovered += bytes;
            }
            Rented.RemoveRange(kept, Rented.Count - kept);
        }
        return recovered;
    }
}
