using System.Globalization;
using Backprop.Distributed;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.MpiWorker;

/// <summary>
/// A small regression trained with SGD and momentum: by one process on the global batch, or by data-parallel ranks,
/// each on its shard of every batch, accumulating two micro-batches per step (the first under NoSync).
/// </summary>
public static class DdpScenario
{
    public const int Steps = 4;
    public const int GlobalBatch = 8;
    public const int Inputs = 6, Hidden = 32, Outputs = 3;

    /// <summary>The model; ranks build it from different seeds, so only the initial broadcast makes them agree.</summary>
    public static Sequential BuildModel(ulong seed)
    {
        var generator = new Generator(seed);
        return new Sequential(
            new Linear(Inputs, Hidden, generator: generator),
            new Tanh(),
            new Linear(Hidden, Hidden, generator: generator),
            new Tanh(),
            new Linear(Hidden, Outputs, generator: generator));
    }

    /// <summary>Step <paramref name="step"/>'s global batch: inputs and targets.</summary>
    public static (Tensor X, Tensor Y) Batch(int step)
    {
        var generator = new Generator(1000 + (ulong)step);
        return (Tensor.Randn(new Shape([GlobalBatch, Inputs]), generator: generator),
                Tensor.Randn(new Shape([GlobalBatch, Outputs]), generator: generator));
    }

    /// <summary>One process, whole batches: what data parallelism must reproduce.</summary>
    public static Sequential TrainSingleProcess()
    {
        var model = BuildModel(seed: 7);
        var optimizer = new Sgd(model.Parameters(), learningRate: 0.1, momentum: 0.9);
        for (int step = 0; step < Steps; step++)
        {
            var (x, y) = Batch(step);
            optimizer.ZeroGrad();
            Functional.MseLoss(model.Forward(x), y).Backward();
            optimizer.Step();
        }
        return model;
    }

    /// <summary>This rank's share of the training, with buckets small enough that there are several.</summary>
    public static Sequential TrainDataParallel(IProcessGroup group, long bucketCapBytes = 2048)
    {
        var replica = BuildModel(seed: 7 + 100 * (ulong)group.Rank);
        using var ddp = new DistributedDataParallel<Tensor, Tensor>(replica, group, bucketCapBytes);
        var optimizer = new Sgd(ddp.Parameters(), learningRate: 0.1, momentum: 0.9);
        int shard = GlobalBatch / group.Size, micro = shard / 2;
        for (int step = 0; step < Steps; step++)
        {
            var (x, y) = Batch(step);
            var (localX, localY) = (x[(group.Rank * shard)..((group.Rank + 1) * shard)], y[(group.Rank * shard)..((group.Rank + 1) * shard)]);
            optimizer.ZeroGrad();
            // Halved losses of two half shards sum to the gradient of the shard's mean; only the second backward communicates.
            using (ddp.NoSync())
                (Functional.MseLoss(ddp.Forward(localX[..micro]), localY[..micro]) * 0.5).Backward();
            (Functional.MseLoss(ddp.Forward(localX[micro..]), localY[micro..]) * 0.5).Backward();
            optimizer.Step();
        }
        return replica;
    }

    /// <summary>Parameters as text, one line per parameter: its name, then its values round-trippable.</summary>
    public static string Format(Module model) => string.Join('\n', model.NamedParameters().Select(p =>
        p.Name + " " + string.Join(' ', p.Parameter.ToArray<float>().Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));

    public static Dictionary<string, float[]> Parse(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
        .Select(line => line.Split(' '))
        .ToDictionary(parts => parts[0], parts => parts.Skip(1).Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray());
}
