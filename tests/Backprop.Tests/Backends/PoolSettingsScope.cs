using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>Sets the CPU memory pool's settings for one test and restores them afterwards.</summary>
internal sealed class PoolSettingsScope : IDisposable
{
    private readonly long _cycleBytes = CpuBackend.PoolCycleBytes;
    private readonly long? _idleLimitBytes = CpuBackend.PoolIdleLimitBytes;
    private readonly int _idlePasses = CpuBackend.PoolIdlePasses;

    /// <summary>Applies the settings given and starts from an empty pool (idle buffers released).</summary>
    public PoolSettingsScope(long? cycleBytes = null, long? idleLimitBytes = null, int? idlePasses = null)
    {
        if (cycleBytes is { } cycle) CpuBackend.PoolCycleBytes = cycle;
        if (idleLimitBytes is { } limit) CpuBackend.PoolIdleLimitBytes = limit;
        if (idlePasses is { } passes) CpuBackend.PoolIdlePasses = passes;
        CpuBackend.ReleasePooledMemory();
    }

    public void Dispose()
    {
        CpuBackend.PoolCycleBytes = _cycleBytes;
        CpuBackend.PoolIdleLimitBytes = _idleLimitBytes;
        CpuBackend.PoolIdlePasses = _idlePasses;
    }
}
