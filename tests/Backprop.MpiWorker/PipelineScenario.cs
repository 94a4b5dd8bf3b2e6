using System.Globalization;
using Backprop.Distributed;
using Backprop.Nn;

namespace Backprop.MpiWorker;

/// <summary>
/// One GPipe step of a five-layer model cut into one stage per rank, against the unsplit model's backward on the
/// whole batch: the parameter gradients must agree.
/// </summary>
public static class PipelineScenario
{
    public const int Batch = 8, MicroBatches = 4;

    public static Sequential BuildModel() => DdpScenario.BuildModel(seed: 11);

    /// <summary>The unsplit model's gradients, by the layer-numbered names of the whole model.</summary>
    public static Dictionary<string, float[]> SingleProcessGradients()
    {
        var model = BuildModel();
        var (x, y) = DdpScenario.Batch(0);
        Functional.MseLoss(model.Forward(x), y).Backward();
        return model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad!.ToArray<float>());
    }

    /// <summary>This rank's stage after one pipelined step: its gradients, named as in the whole model.</summary>
    public static string RunPipelined(IProcessGroup group)
    {
        var model = BuildModel();
        var stages = PipelineParallel.SplitStages(model, group.Size);
        var pipeline = new PipelineParallel(stages[group.Rank], group, MicroBatches);
        var (x, y) = DdpScenario.Batch(0);
        var targets = y.Chunk(MicroBatches);
        // Each micro-batch's mean over the number of micro-batches: the batch's mean.
        pipeline.Step(pipeline.IsFirst ? x : null,
            pipeline.IsLast ? (output, m) => Functional.MseLoss(output, targets[m]) * (1.0 / MicroBatches) : null);
        var mine = stages[group.Rank].Parameters().ToHashSet(ReferenceEqualityComparer.Instance);
        return string.Join('\n', model.NamedParameters().Where(p => mine.Contains(p.Parameter)).Select(p =>
            p.Name + " " + string.Join(' ', p.Parameter.Grad!.ToArray<float>().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
    }
}
