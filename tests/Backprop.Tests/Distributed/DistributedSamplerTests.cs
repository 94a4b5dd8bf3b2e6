using Backprop.Distributed;

namespace Backprop.Tests.Distributed;

public class DistributedSamplerTests
{
    [Theory]
    [InlineData(10, 3, false)]
    [InlineData(10, 3, true)]
    [InlineData(12, 4, false)]
    [InlineData(2, 3, false)]
    public void Shards_AreEqualDisjointAndCoverTheDataset(int count, int ranks, bool dropLast)
    {
        var shards = Enumerable.Range(0, ranks).Select(r => new DistributedSampler(count, ranks, r, seed: 5, dropLast: dropLast).Indices(epoch: 2)).ToArray();
        int perRank = dropLast ? count / ranks : (count + ranks - 1) / ranks;
        Assert.All(shards, s => Assert.Equal(perRank, s.Length));
        var all = shards.SelectMany(s => s).ToArray();
        Assert.All(all, i => Assert.InRange(i, 0, count - 1));
        if (dropLast)
            Assert.Equal(all.Length, all.Distinct().Count());
        else
        {
            // Every sample is seen; only the padding repeats, and no more than it needs.
            Assert.Equal(count, all.Distinct().Count());
            Assert.Equal(perRank * ranks - count, all.Length - all.Distinct().Count());
        }
    }

    [Fact]
    public void Order_DependsOnSeedAndEpochOnly()
    {
        var a = new DistributedSampler(100, 2, 0, seed: 1);
        Assert.Equal(a.Indices(3), new DistributedSampler(100, 2, 0, seed: 1).Indices(3));
        Assert.NotEqual(a.Indices(3), a.Indices(4));
        Assert.NotEqual(a.Indices(3), new DistributedSampler(100, 2, 0, seed: 2).Indices(3));
        Assert.Equal([0, 2, 4, 6], new DistributedSampler(8, 2, 0, shuffle: false).Indices(0));
    }

    [Fact]
    public void BadRank_IsNamed()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new DistributedSampler(10, 2, 2));
        Assert.Contains("rank 2", e.Message);
    }
}
