using Backprop.Distributed;
using Backprop.MpiWorker;
using Backprop.Nn;

namespace Backprop.Tests.Distributed;

public class PipelineParallelTests
{
    [Fact]
    public void ThreeStages_GiveTheUnsplitModelsGradients()
    {
        // Three in-process ranks: a middle stage both receives activations and sends gradients back.
        var stages = LocalRanks.Run(3, PipelineScenario.RunPipelined).Select(DdpScenario.Parse).ToArray();
        Assert.All(stages, s => Assert.NotEmpty(s));
        var expected = PipelineScenario.SingleProcessGradients();
        Assert.Equal(expected.Keys.Order(), stages.SelectMany(s => s.Keys).Order());
        foreach (var (name, actual) in stages.SelectMany(s => s))
        {
            var reference = expected[name];
            double scale = reference.Max(v => Math.Abs((double)v));
            for (int i = 0; i < reference.Length; i++)
                Assert.True(Math.Abs((double)actual[i] - reference[i]) <= 1e-5 * scale, $"{name}[{i}]: pipelined {actual[i]} vs unsplit {reference[i]}");
        }
    }

    [Fact]
    public void SplitStages_KeepsLayerOrderAndBalancesParameters()
    {
        var model = new Sequential(new Linear(100, 100), new Relu(), new Linear(100, 100), new Relu(), new Linear(100, 2));
        var stages = PipelineParallel.SplitStages(model, 2);
        Assert.Equal(model.ToArray(), stages.SelectMany(s => s).ToArray());
        // The two big layers go to different stages.
        Assert.Equal(2, stages[0].Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => PipelineParallel.SplitStages(model, 6));
    }
}
