namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <summary>
    /// How many threads large CPU kernels (matrix products, long element-wise loops) may use, the calling thread
    /// included. Defaults to <see cref="Environment.ProcessorCount"/>; 1 runs every kernel on the calling thread.
    /// </summary>
    public static int ThreadCount
    {
        get => CpuParallel.ThreadCount;
        set => CpuParallel.ThreadCount = value;
    }
}
