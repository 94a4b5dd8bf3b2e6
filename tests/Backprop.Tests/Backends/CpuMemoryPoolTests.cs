using System.Runtime.CompilerServices;
using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

[Collection(nameof(CpuThreadCountCollection))]
public class CpuMemoryPoolTests
{
    [Fact]
    public void Live_tensors_never_share_a_pooled_buffer_and_dead_ones_are_reused()
    {
        const int length = 40_000; // 160 KB of float32: pooled
        var alive = new List<Tensor>();
        var buffers = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 40; i++)
            {
                var t = Tensor.Zeros([length]);
                if (i % 2 == 0) alive.Add(t);
                _ = Tensor.Ones([length]); // garbage at once
            }
            CpuMemoryPool.Reclaim();
        }
        foreach (var t in alive) Assert.True(buffers.Add(CpuBackend.Data<float>(t.Storage)), "two live tensors share a buffer");
        Assert.All(alive, t => Assert.Equal(0f, t.Max().Item<float>()));

        long arraysBefore = CpuMemoryPool.Statistics.ReclaimedArrays;
        CpuMemoryPool.Reclaim();
        CpuMemoryPool.Reclaim();
        var reused = Tensor.Zeros([length]);
        Assert.True(CpuMemoryPool.Statistics.ReclaimedArrays >= arraysBefore);
        Assert.DoesNotContain(CpuBackend.Data<float>(reused.Storage), buffers);
        Assert.Equal(0f, reused.Abs().Max().Item<float>()); // a rented buffer asked for zeros is cleared
        GC.KeepAlive(alive);
    }

    [Fact]
    public void A_backward_pass_that_rented_a_cycle_ends_with_a_pass()
    {
        // 32 MiB cycles; the backward rents one 40 MiB gradient (x's): more than a cycle, less than the two after which
        // renting runs a pass, so only the end of the backward pass can run one (its activations are garbage then).
        using var settings = new PoolSettingsScope(cycleBytes: 32 * MiB);
        var x = Tensor.Ones([10 * (int)MiB], requiresGrad: true);
        var loss = x.Sum();
        CpuMemoryPool.Reclaim();
        int before = CpuMemoryPool.Statistics.Passes;
        loss.Backward();
        Assert.True(CpuMemoryPool.Statistics.Passes > before, "no pass ran at the end of the backward pass");
        Assert.Equal(1f, x.Grad!.Max().Item<float>());
    }

    [Fact]
    public void A_training_loop_stops_allocating_large_buffers()
    {
        var w = Tensor.Randn([200, 300], requiresGrad: true);
        var x = Tensor.Randn(256, 200);
        void Step()
        {
            var loss = x.MatMul(w).Relu().Mean();
            loss.Backward();
            using (Backprop.Autograd.NoGrad()) w.AddInPlace(w.Grad!, alpha: -0.01);
            w.ZeroGrad();
        }
        for (int i = 0; i < 400; i++) Step();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Step();
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / 100;
        // Unpooled, each step would allocate its [256, 300] activations and gradients and the [200, 300] weight
        // gradient afresh: over 1 MB. Pooled, only small bookkeeping objects remain.
        Assert.True(perStep < 100_000, $"{perStep} bytes allocated per step");
    }

    private const long MiB = 1024 * 1024;

    /// <summary>Holds <paramref name="count"/> tensors of <paramref name="length"/> floats at once, then drops them all.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RentAndDrop(int length, int count)
    {
        var held = new Tensor[count];
        for (int i = 0; i < count; i++) held[i] = Tensor.Zeros([length]);
        GC.KeepAlive(held);
    }

    [Fact]
    public void Idle_buffers_never_exceed_the_limit()
    {
        // Passes only when asked, buffers never too old: the limit alone bounds what the pool keeps.
        using var settings = new PoolSettingsScope(cycleBytes: 1L << 40, idleLimitBytes: 2 * MiB, idlePasses: 1000);
        for (int round = 0; round < 6; round++)
        {
            // 40 distinct lengths of 120 to 276 KB, about 8 MB a round; every length recurs each round.
            for (int i = 0; i < 40; i++) RentAndDrop(30_011 + 1_000 * i, 1);
            CpuMemoryPool.Reclaim();
            var stats = CpuMemoryPool.Statistics;
            Assert.True(stats.IdleBytes <= 2 * MiB, $"round {round}: {stats.IdleBytes} idle bytes over a 2 MiB limit");
        }
        Assert.True(CpuMemoryPool.Statistics.FreeBytes > 0, "within the limit the pool should still keep buffers for reuse");
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuBackend.PoolIdleLimitBytes = -1);
    }

    [Fact]
    public void Buffers_of_a_length_no_longer_used_are_released_after_the_idle_passes()
    {
        const int idlePasses = 4, retired = 50_021, current = 50_023;
        using var settings = new PoolSettingsScope(cycleBytes: 1L << 40, idlePasses: idlePasses);
        // A steady phase: the same length every round, reused from the second round on.
        for (int round = 0; round < 4; round++)
        {
            RentAndDrop(retired, 3);
            CpuMemoryPool.Reclaim();
        }
        CpuMemoryPool.Reclaim(); // the last round's buffers leave quarantine
        int kept = CpuMemoryPool.FreeArrays<float>(retired);
        Assert.True(kept >= 3, $"only {kept} buffers of the steady phase's length are free");

        // Another phase that never asks for that length: its buffers wait out the idle passes, then leave.
        for (int pass = 1; pass <= idlePasses - 1; pass++)
        {
            RentAndDrop(current, 3);
            CpuMemoryPool.Reclaim();
        }
        Assert.Equal(kept, CpuMemoryPool.FreeArrays<float>(retired));
        for (int pass = 0; pass < 3; pass++)
        {
            RentAndDrop(current, 3);
            CpuMemoryPool.Reclaim();
        }
        Assert.Equal(0, CpuMemoryPool.FreeArrays<float>(retired));
        Assert.True(CpuMemoryPool.FreeArrays<float>(current) >= 3, "the length in use should keep its buffers");

        // Nothing in use: after the idle passes the pool holds nothing at all.
        for (int pass = 0; pass < idlePasses + 2; pass++) CpuMemoryPool.Reclaim();
        Assert.Equal(0, CpuMemoryPool.IdleBytes);
    }

    [Fact]
    public void A_loop_whose_shapes_vary_keeps_the_idle_buffers_bounded()
    {
        // 2 MiB cycles (passes come from renting, as in a real loop) and the default idle passes and limit.
        const long cycle = 2 * MiB;
        using var settings = new PoolSettingsScope(cycleBytes: cycle);
        var w = Tensor.Randn([128], requiresGrad: true);
        var random = new Random(9);
        long largestArray = 0, peakIdle = 0;
        for (int step = 0; step < 200; step++)
        {
            int l = random.Next(32, 288); // [4, L, 128] float32: 64 KB to 576 KB, every one pooled
            largestArray = Math.Max(largestArray, 4L * l * 128 * sizeof(float));
            var x = Tensor.Randn(4, l, 128);
            (x * w).Relu().Mean().Backward();
            w.ZeroGrad();
            peakIdle = Math.Max(peakIdle, CpuMemoryPool.IdleBytes);
        }
        // A free buffer is at most the idle passes old, and each pass frees what one cycle (and one rent past it)
        // handed out; the quarantine holds one more cycle. Without trimming the pool would keep a set of buffers for
        // every length the loop ever used (about 200 MB here).
        long bound = (CpuBackend.PoolIdlePasses + 2) * (cycle + largestArray);
        Assert.True(peakIdle <= bound, $"the pool kept up to {peakIdle} idle bytes; the bound is {bound}");
    }

    [Fact]
    public void Threads_renting_at_once_never_share_a_buffer()
    {
        using var settings = new PoolSettingsScope(cycleBytes: 4 * MiB, idlePasses: 2);
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            var random = new Random(worker);
            for (int i = 0; i < 150; i++)
            {
                // Few lengths, so buffers are reused across threads while passes trim and quarantine them.
                int length = 20_000 + 1_000 * random.Next(4);
                var t = Tensor.Full([length], worker + 1.0);
                var u = Tensor.Full([length], -(worker + 1.0));
                if (t.Min().Item<float>() != worker + 1 || t.Max().Item<float>() != worker + 1 || u.Max().Item<float>() != -(worker + 1))
                    failures.Add($"worker {worker}, step {i}: a live tensor's buffer was overwritten");
            }
        });
        Assert.Empty(failures);
    }
}
