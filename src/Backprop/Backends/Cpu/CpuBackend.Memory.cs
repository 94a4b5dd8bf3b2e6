namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>
    /// How many bytes of large tensor buffers are handed out before the memory pool's next reclaim pass
    /// (<see cref="CpuMemoryPool"/>), which runs at the end of a backward pass (after twice this in a loop without
    /// backward passes). Larger means fewer young-generation collections and more memory held; in a steady training
    /// loop the pool keeps about twice this beyond what is alive. Default 32 MiB.
    /// </summary>
    public static long PoolCycleBytes
    {
        get => CpuMemoryPool.ReclaimAfterBytes;
        set => CpuMemoryPool.ReclaimAfterBytes = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"PoolCycleBytes must be positive; got {value}.");
    }

    /// <summary>
    /// The most bytes of idle tensor buffers (freed by their tensors, waiting for reuse) the memory pool keeps; beyond
    /// it the buffers unused longest are released to the GC. <c>null</c> (the default) means one eighth of the memory
    /// available to the GC (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>); 0 keeps none, so nothing is reused.
    /// </summary>
    public static long? PoolIdleLimitBytes
    {
        get => CpuMemoryPool.IdleLimitSetting is >= 0 and var limit ? limit : null;
        set => CpuMemoryPool.IdleLimitSetting = value switch
        {
            null => -1,
            >= 0 => value.Value,
            _ => throw new ArgumentOutOfRangeException(nameof(value), $"PoolIdleLimitBytes must be null (the default) or at least 0; got {value}."),
        };
    }

    /// <summary>
    /// How many reclaim passes (<see cref="PoolCycleBytes"/> each) a freed buffer may wait unused before the pool
    /// releases it to the GC. Buffers of shapes a workload no longer uses leave the pool after this; a steady loop
    /// reuses its buffers every step and keeps them, as long as one step hands out less than about this many cycles.
    /// Default 8.
    /// </summary>
    public static int PoolIdlePasses
    {
        get => CpuMemoryPool.MaxIdlePasses;
        set => CpuMemoryPool.MaxIdlePasses = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), $"PoolIdlePasses must be positive; got {value}.");
    }

    /// <summary>
    /// Releases every idle buffer the memory pool holds to the GC (buffers of live tensors are untouched), e.g. after
    /// training before a long phase that needs other shapes.
    /// </summary>
    public static void ReleasePooledMemory() => CpuMemoryPool.ReleaseIdle();
}
