using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>
/// Batched products of small matrices run whole items on each core: every item must come out as the same bits as the
/// item multiplied alone, on one thread and on four.
/// </summary>
[Collection(nameof(CpuThreadCountCollection))]
public class BatchedMatMulThreadTests
{
    private static float[] OnThreads(int threads, Func<Tensor> run) => CpuThreads.Run(threads, () => run().ToArray<float>());

    [Fact]
    public void Attention_sized_items_give_the_same_bits_on_one_thread_on_four_and_one_at_a_time()
    {
        // 2 × 32 heads of [64, 64]·[64, 32] (an attention head's P·V), with B a permuted view as the heads are.
        var a = Tensor.Randn(new Shape(2, 32, 64, 64), generator: new Generator(3));
        var b = Tensor.Randn(new Shape(64, 2, 32, 32), generator: new Generator(4)).Permute(1, 2, 0, 3);
        var one = OnThreads(1, () => a.MatMul(b));
        var four = OnThreads(4, () => a.MatMul(b));
        Assert.True(one.SequenceEqual(four), "the batched product differs between 1 and 4 threads");

        var alone = OnThreads(4, () => Tensor.Stack([.. Enumerable.Range(0, 2).Select(i => Tensor.Stack(
            [.. Enumerable.Range(0, 32).Select(h => a.Select(0, i).Select(0, h).MatMul(b.Select(0, i).Select(0, h)))]))]));
        Assert.True(one.SequenceEqual(alone), "a batched item differs from the same product alone");
    }

    [Fact]
    public void A_broadcast_batch_dim_of_the_left_operand_is_read_by_every_item()
    {
        var a = Tensor.Randn(new Shape(1, 24, 16), generator: new Generator(5)).Expand(40, 24, 16);
        var b = Tensor.Randn(new Shape(40, 16, 8), generator: new Generator(6));
        var four = OnThreads(4, () => a.MatMul(b));
        var one = OnThreads(1, () => a.Contiguous().MatMul(b));
        Assert.True(one.SequenceEqual(four));
    }
}
