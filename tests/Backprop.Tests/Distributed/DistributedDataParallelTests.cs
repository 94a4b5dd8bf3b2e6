using Backprop.Distributed;
using Backprop.MpiWorker;
using Backprop.Nn;

namespace Backprop.Tests.Distributed;

/// <summary>Data parallelism over in-process ranks (threads): the same code paths as MPI, without processes.</summary>
public class DistributedDataParallelTests
{
    private static float[] Flat(Module model) => [.. model.Parameters().SelectMany(p => p.ToArray<float>())];

    private static float[] Grads(Module model) => [.. model.Parameters().SelectMany(p => p.Grad!.ToArray<float>())];

    private static void AssertClose(float[] expected, float[] actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs((double)v));
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs((double)actual[i] - expected[i]);
            Assert.True(error <= relative * scale, $"{what}[{i}]: {actual[i]} vs {expected[i]} (error {error:G3}, bound {relative * scale:G3})");
        }
    }

    [Fact]
    public void Construction_GivesEveryRankRank0sParameters()
    {
        var rank0 = Flat(DdpScenario.BuildModel(seed: 7));
        var replicas = LocalRanks.Run(3, group =>
        {
            var model = DdpScenario.BuildModel(seed: 7 + (ulong)group.Rank);
            using var ddp = new DistributedDataParallel<Tensor, Tensor>(model, group);
            return Flat(model);
        });
        foreach (var replica in replicas) Assert.Equal(rank0, replica);
    }

    [Theory]
    [InlineData(true, 2048)]
    [InlineData(false, 2048)]
    [InlineData(true, GradientReducer.DefaultBucketCapBytes)]
    public void Gradients_AreTheMeanOverRanks(bool overlap, long bucketCap)
    {
        var (x, y) = DdpScenario.Batch(0);
        var reference = DdpScenario.BuildModel(seed: 7);
        Functional.MseLoss(reference.Forward(x), y).Backward();
        var expected = Grads(reference);
        var grads = LocalRanks.Run(2, group =>
        {
            var model = DdpScenario.BuildModel(seed: 7);
            using var ddp = new DistributedDataParallel<Tensor, Tensor>(model, group, bucketCap, overlap);
            var rows = (group.Rank * 4)..((group.Rank + 1) * 4);
            Functional.MseLoss(ddp.Forward(x[rows]), y[rows]).Backward();
            return Grads(model);
        });
        Assert.Equal(grads[0], grads[1]);
        AssertClose(expected, grads[0], 1e-6, "gradient");
    }

    [Fact]
    public void NoSync_KeepsGradientsLocalUntilTheNextSynchronizedBackward()
    {
        var (x, y) = DdpScenario.Batch(1);
        var results = LocalRanks.Run(2, group =>
        {
            var model = DdpScenario.BuildModel(seed: 7);
            using var ddp = new DistributedDataParallel<Tensor, Tensor>(model, group, bucketCapBytes: 2048);
            var rows = (group.Rank * 4)..((group.Rank + 1) * 4);
            using (ddp.NoSync()) Functional.MseLoss(ddp.Forward(x[rows]), y[rows]).Backward();
            var local = Grads(model);
            Functional.MseLoss(ddp.Forward(x[rows]), y[rows]).Backward();
            return (Local: local, Synced: Grads(model));
        });
        // Inside NoSync each rank kept its own gradient; the next backward averaged the accumulated sums.
        Assert.NotEqual(results[0].Local, results[1].Local);
        Assert.Equal(results[0].Synced, results[1].Synced);
        var expected = results[0].Local.Zip(results[1].Local, (a, b) => a + b).ToArray();
        AssertClose(expected, results[0].Synced, 1e-6, "accumulated mean of two backwards");
    }

    [Fact]
    public void BatchNormBuffers_AreRank0sBeforeEachTrainingForward()
    {
        var states = LocalRanks.Run(2, group =>
        {
            var model = new Sequential(new Linear(4, 3, generator: new Generator(1)), new BatchNorm1d(3));
            using var ddp = new DistributedDataParallel<Tensor, Tensor>(model, group);
            // Each rank's own batch moves its running statistics its own way.
            var x = Tensor.Randn(new Shape([6, 4]), generator: new Generator(10 + (ulong)group.Rank));
            ddp.Forward(x).Sum().Backward();
            var afterOwnStep = model.Buffers().First().ToArray<float>();
            ddp.Forward(x).Sum().Backward();
            ddp.BroadcastBuffersFromRoot();
            return (afterOwnStep, synced: model.Buffers().First().ToArray<float>());
        });
        Assert.NotEqual(states[0].afterOwnStep, states[1].afterOwnStep);
        Assert.Equal(states[0].synced, states[1].synced);
    }

    [Fact]
    public void UnusedParameter_IsNamedInTheError()
    {
        var errors = LocalRanks.Run(2, group =>
        {
            var model = new Sequential(new Linear(3, 2, generator: new Generator(1)), new Linear(2, 2, generator: new Generator(2)));
            using var ddp = new DistributedDataParallel<Tensor, Tensor>(model, group, bucketCapBytes: 16);
            // Only the first layer takes part in the loss.
            var error = Record.Exception(() => model[0].Forward(Tensor.Ones(1, 3)).Sum().Backward());
            return error?.Message ?? "";
        });
        foreach (var message in errors)
        {
            Assert.Contains("1.weight", message);
            Assert.Contains("1.bias", message);
        }
    }

    [Fact]
    public void Buckets_RunFromTheLastParameterBackwardsWithASmallFirstBucket()
    {
        var buckets = LocalRanks.Run(1, group =>
        {
            var model = new Sequential(new Linear(600, 600), new Linear(600, 600), new Linear(600, 10));
            using var ddp = new DistributedDataParallel<Tensor, Tensor>(model, group, bucketCapBytes: 3_000_000);
            return ddp.Reducer.Buckets;
        })[0];
        Assert.Equal(["2.bias", "2.weight", "1.bias"], buckets[0].Parameters);
        Assert.True(buckets[0].Bytes <= 1024 * 1024, $"first bucket {buckets[0].Bytes} bytes");
        Assert.All(buckets, b => Assert.True(b.Bytes <= 3_000_000, $"bucket of {b.Bytes} bytes"));
        Assert.Equal(["2.bias", "2.weight", "1.bias", "1.weight", "0.bias", "0.weight"], buckets.SelectMany(b => b.Parameters));
    }

    [Fact]
    public void ABackwardThatThrew_DoesNotSpoilTheNextStep()
    {
        var (x, y) = DdpScenario.Batch(2);
        var reference = DdpScenario.BuildModel(seed: 7);
        Functional.MseLoss(reference.Forward(x), y).Backward();
        var expected = Grads(reference);
        var grads = LocalRanks.Run(2, group =>
        {
            var model = DdpScenario.BuildModel(seed: 7);
            using var ddp = new DistributedDataParallel<Tensor, Tensor>(model, group, bucketCapBytes: 2048);
            var rows = (group.Rank * 4)..((group.Rank + 1) * 4);
            // A hook on the input throws once the last layers' gradients (and their buckets) are done.
            var input = x[rows].Detach();
            input.RequiresGrad = true;
            using (input.RegisterHook(_ => throw new InvalidOperationException("user hook failed")))
                Assert.ThrowsAny<InvalidOperationException>(() => Functional.MseLoss(ddp.Forward(input), y[rows]).Backward());
            model.ZeroGrad();
            Functional.MseLoss(ddp.Forward(x[rows]), y[rows]).Backward();
            return Grads(model);
        });
        Assert.Equal(grads[0], grads[1]);
        AssertClose(expected, grads[0], 1e-6, "gradient after a failed backward");
    }
}
