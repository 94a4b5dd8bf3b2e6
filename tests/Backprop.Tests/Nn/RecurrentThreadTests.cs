using Backprop.Backends.Cpu;
using Backprop.Nn;
using Backprop.Tests.Backends;

namespace Backprop.Tests.Nn;

/// <summary>The fused recurrent kernels split batch rows across threads: results must not depend on how many.</summary>
[Collection(nameof(CpuThreadCountCollection))]
public class RecurrentThreadTests
{
    private static float[][] Run(RecurrentLayer layer, Tensor x, int threads)
    {
        int saved = CpuParallel.ThreadCount;
        CpuParallel.ThreadCount = threads;
        try
        {
            var (output, state) = layer.Forward(x);
            var p = layer.Parameters().Cast<Tensor>().ToArray();
            var grads = Autograd.Grad([output.Square().Sum() + state.Hidden.Sum()], p);
            return [output.ToArray<float>(), .. grads.Select(g => g!.ToArray<float>())];
        }
        finally { CpuParallel.ThreadCount = saved; }
    }

    [Theory]
    [InlineData("lstm")]
    [InlineData("gru")]
    public void Float32_results_are_the_same_on_one_thread_and_on_four(string kind)
    {
        // 256 rows of 67 units: enough work per step that the kernels split rows, and an odd width for vector tails.
        RecurrentLayer layer = kind == "lstm" ? new Lstm(5, 67, generator: new Generator(1)) : new Gru(5, 67, generator: new Generator(1));
        var x = Tensor.Randn(new Shape(3, 256, 5), generator: new Generator(2));
        var one = Run(layer, x, 1);
        var four = Run(layer, x, 4);
        for (int i = 0; i < one.Length; i++) Assert.True(one[i].SequenceEqual(four[i]), $"result {i} differs between 1 and 4 threads");
    }
}
