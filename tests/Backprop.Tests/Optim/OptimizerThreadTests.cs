using Backprop.Backends.Cpu;
using Backprop.Optim;
using Backprop.Tests.Backends;

namespace Backprop.Tests.Optim;

/// <summary>
/// Optimizer updates, column sums and row gathers split across threads once they are large: the float32 results must
/// be the same bits on one thread and on four.
/// </summary>
[Collection(nameof(CpuThreadCountCollection))]
public class OptimizerThreadTests
{
    private static T OnThreads<T>(int threads, Func<T> run) => CpuThreads.Run(threads, run);

    // An odd length, so chunk edges fall inside vectors and the scalar tails run.
    private const int Length = 100_003;

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("adamw-amsgrad")]
    [InlineData("rmsprop")]
    [InlineData("adagrad")]
    public void Three_steps_give_the_same_parameters_on_one_thread_and_on_four(string kind)
    {
        float[] Run()
        {
            var p = Tensor.Randn([Length], generator: new Generator(5)).SetRequiresGrad();
            Optimizer optimizer = kind switch
            {
                "sgd" => new Sgd([p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true),
                "adam" => new Adam([p], learningRate: 0.01, weightDecay: 0.01),
                "adamw-amsgrad" => new AdamW([p], learningRate: 0.01, amsgrad: true),
                "rmsprop" => new RmsProp([p], learningRate: 0.01, momentum: 0.5, centered: true),
                _ => new Adagrad([p], learningRate: 0.1),
            };
            for (int step = 0; step < 3; step++)
            {
                optimizer.ZeroGrad();
                (p * p * p).Sum().Backward();
                optimizer.Step();
            }
            return p.ToArray<float>();
        }
        Assert.Equal(OnThreads(1, Run), OnThreads(4, Run));
    }

    [Fact]
    public void Column_sums_and_row_gathers_are_the_same_on_one_thread_and_on_four()
    {
        var x = Tensor.Randn([3001, 333], generator: new Generator(6));
        var rows = Tensor.FromArray(Enumerable.Range(0, 200).Select(i => (long)(i * 37 % 3001)).ToArray());
        float[][] Run() => [x.Sum(0).ToArray<float>(), x.IndexSelect(0, rows).ToArray<float>()];
        var (one, four) = (OnThreads(1, Run), OnThreads(4, Run));
        Assert.Equal(one[0], four[0]);
        Assert.Equal(one[1], four[1]);
        // The gather copies exactly the rows asked for.
        Assert.Equal(x.Select(0, 37).ToArray<float>(), x.IndexSelect(0, rows).Select(0, 1).ToArray<float>());
    }
}
