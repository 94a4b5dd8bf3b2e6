using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>The sort kernels split slices among threads: the results must not depend on how many there are.</summary>
[Collection(nameof(CpuThreadCountCollection))]
public class SortThreadingTests
{
    private static long[][] Orderings(Tensor x)
    {
        var (_, sortIndices) = x.Sort(1, descending: true);
        return [sortIndices.ToArray<long>(), x.Median(1).Indices.ToArray<long>(), x.Mode(1).Indices.ToArray<long>(), x.Argsort(0).ToArray<long>()];
    }

    [Fact]
    public void Sort_median_and_mode_indices_are_the_same_on_one_thread_and_on_four()
    {
        // Many slices of many elements (enough to be split), drawn from few values so there are ties everywhere.
        var x = (Tensor.RandInt(0, 50, new Shape(64, 2048), new Generator(5)).To(DType.Float32) - 25.0) / 4.0;
        int saved = CpuParallel.ThreadCount;
        long[][] single, multi;
        try
        {
            CpuParallel.ThreadCount = 1;
            single = Orderings(x);
            CpuParallel.ThreadCount = 4;
            multi = Orderings(x);
        }
        finally { CpuParallel.ThreadCount = saved; }
        for (int i = 0; i < single.Length; i++) Assert.Equal(single[i], multi[i]);
        // And each row sorted alone (too small to split) agrees with its row of the batch.
        var rowOrder = x[3].Sort(descending: true).Indices.ToArray<long>();
        Assert.Equal(rowOrder, multi[0].AsSpan(3 * 2048, 2048).ToArray());
    }
}
