using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>
/// Large strided element-wise kernels (a permuted operand, a broadcast bias, a copy out of a permuted view) split
/// their rows, or one long row, across the cores: every element must land where the serial walk puts it.
/// </summary>
[Collection(nameof(CpuThreadCountCollection))]
public class StridedElementwiseThreadTests
{
    private static float[] OnThreads(int threads, Func<Tensor> run) => CpuThreads.Run(threads, () => run().ToArray<float>());

    public static TheoryData<string> Cases() => ["permuted plus broadcast row", "relu of permuted", "copy of permuted", "bias over rows", "contiguous copy", "transposed times column"];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Results_are_the_same_on_one_thread_and_on_four(string name)
    {
        // 3 × 130 × 257 = 100,230 elements: past the parallel threshold, with odd sizes so that chunks end mid-row.
        var x = Tensor.Randn(new Shape(130, 3, 257), generator: new Generator(1));
        var row = Tensor.Randn(new Shape(257), generator: new Generator(2));
        var column = Tensor.Randn(new Shape(257, 1), generator: new Generator(3));
        Func<Tensor> run = name switch
        {
            "permuted plus broadcast row" => () => x.Permute(1, 0, 2) + row,
            "relu of permuted" => () => x.Permute(2, 1, 0).Relu(),
            "copy of permuted" => () => x.Permute(1, 2, 0).Contiguous(),
            "bias over rows" => () => row.Expand(400, 257).Contiguous(),
            "contiguous copy" => () => x.Clone(),
            _ => () => x.Permute(2, 1, 0) * column.Unsqueeze(1),
        };
        var one = OnThreads(1, run);
        var four = OnThreads(4, run);
        Assert.True(one.SequenceEqual(four), $"{name}: 1 and 4 threads differ");
        // And the serial walk itself agrees with element-by-element indexing.
        if (name == "copy of permuted")
        {
            var source = x.ToArray<float>();
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 257; j++)
                    for (int k = 0; k < 130; k += 7)
                        Assert.Equal(source[(k * 3 + i) * 257 + j], four[(i * 257 + j) * 130 + k]);
        }
    }
}
