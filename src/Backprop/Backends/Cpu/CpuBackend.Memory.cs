namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>
    /// How many bytes of large tensor buffers are handed out between two of the memory pool's reclaim passes
    /// (<see cref="CpuMemoryPool"/>). Larger means fewer young-generation collections and more memory held; the pool
    /// keeps about twice this beyond what is alive. Default 32 MiB.
    /// </summary>
    public static long PoolCycleBytes
    {
        get => CpuMemoryPool.ReclaimAfterBytes;
        set => CpuMemoryPool.ReclaimAfterBytes = value > 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), "The pool cycle must be positive.");
    }
}
