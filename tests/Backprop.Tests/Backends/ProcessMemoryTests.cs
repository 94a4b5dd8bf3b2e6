using System.Diagnostics;
using Backprop.Backends.Cpu;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Backends;

/// <summary>Measures process-wide memory, so it runs in the non-parallel collection (nothing else allocates meanwhile).</summary>
[Collection(nameof(CpuThreadCountCollection))]
public class ProcessMemoryTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public void Memory_stays_bounded_over_a_training_loop_whose_shapes_vary()
    {
        // 4 MiB cycles, the default idle passes and limit: a loop over [8, L, 128] inputs (128 KB to 1.2 MB a
        // tensor, every one pooled) with L drawn each step, as a sequence model's batches are.
        const long cycle = 4 * MiB;
        using var settings = new PoolSettingsScope(cycleBytes: cycle);
        var linear = new Linear(128, 64);
        var optimizer = new Sgd(linear.Parameters(), learningRate: 1e-3);
        var random = new Random(3);
        void Step()
        {
            var x = Tensor.Randn(8, random.Next(32, 288), 128);
            linear.Forward(x).Relu().Square().Mean().Backward();
            optimizer.Step();
            linear.ZeroGrad();
        }
        static long Heap() => GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();

        for (int i = 0; i < 20; i++) Step();
        long heapBefore = Heap();
        process.Refresh();
        long residentBefore = process.WorkingSet64;
        long peakIdle = 0;
        for (int i = 0; i < 120; i++)
        {
            Step();
            peakIdle = Math.Max(peakIdle, CpuMemoryPool.IdleBytes);
        }
        long heapGrowth = Heap() - heapBefore;
        process.Refresh();
        long residentGrowth = process.WorkingSet64 - residentBefore;

        // The loop hands out about 300 MB over 120 steps in lengths that rarely repeat. A pool that kept a buffer of
        // every length it saw held 250 MB more on the heap and 345 MB more resident by the end; a bounded one keeps
        // a few cycles' worth (the idle passes times a cycle and one rent is a generous bound), and neither the heap
        // after a full collection nor the resident set grows measurably.
        long idleBound = (CpuBackend.PoolIdlePasses + 2) * (cycle + 8L * 288 * 128 * sizeof(float));
        Assert.True(peakIdle <= idleBound, $"the pool kept up to {peakIdle} idle bytes; the bound is {idleBound}");
        Assert.True(heapGrowth < 64 * MiB, $"the managed heap grew by {heapGrowth} bytes over 120 steps");
        Assert.True(residentGrowth < 256 * MiB, $"resident memory grew by {residentGrowth} bytes over 120 steps");
    }
}
