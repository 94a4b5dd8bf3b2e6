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

        long arraysBefore = CpuMemoryPool.Statistics.Arrays;
        CpuMemoryPool.Reclaim();
        CpuMemoryPool.Reclaim();
        var reused = Tensor.Zeros([length]);
        Assert.True(CpuMemoryPool.Statistics.Arrays >= arraysBefore);
        Assert.DoesNotContain(CpuBackend.Data<float>(reused.Storage), buffers);
        Assert.Equal(0f, reused.Abs().Max().Item<float>()); // a rented buffer asked for zeros is cleared
        GC.KeepAlive(alive);
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
}
