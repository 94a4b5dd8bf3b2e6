using Backprop.Data;
using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Data;

public class DataLoaderTests
{
    /// <summary>Sample i has features (i, −i) and label i, so every batch row can be checked against its index.</summary>
    private static TensorDataset Numbered(int n)
    {
        var features = new float[2 * n];
        for (int i = 0; i < n; i++)
        {
            features[2 * i] = i;
            features[2 * i + 1] = -i;
        }
        return new TensorDataset(Tensor.FromArray(features, n, 2), Tensor.Arange(n, DType.Int64));
    }

    private static List<int[]> Epoch(DataLoader loader) => loader.Select(b => b.Indices.ToArray()).ToList();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Every_sample_appears_exactly_once_per_epoch_with_its_own_rows(int prefetch)
    {
        var loader = new DataLoader(Numbered(103), batchSize: 10, shuffle: true, generator: new Generator(1), prefetch: prefetch);

        var seen = new List<int>();
        var sizes = new List<int>();
        foreach (var (x, y) in loader)
        {
            Assert.Equal(DType.Float32, x.DType);
            Assert.Equal(DType.Int64, y.DType);
            Assert.Equal(x.Size(0), y.Size(0));
            Assert.Equal(2, x.Size(1));
            var labels = y.ToArray<long>();
            var rows = x.ToArray<float>();
            for (int r = 0; r < labels.Length; r++)
            {
                Assert.Equal(labels[r], rows[2 * r]);
                Assert.Equal(-labels[r], rows[2 * r + 1]);
            }
            seen.AddRange(labels.Select(l => (int)l));
            sizes.Add(labels.Length);
        }

        Assert.Equal(Enumerable.Range(0, 103), seen.Order());
        Assert.NotEqual(Enumerable.Range(0, 103), seen);
        Assert.Equal([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3], sizes);
        Assert.Equal(11, loader.BatchesPerEpoch);
    }

    [Fact]
    public void Drop_last_skips_the_short_final_batch()
    {
        var loader = new DataLoader(Numbered(103), batchSize: 10, shuffle: true, dropLast: true, generator: new Generator(2));

        var batches = Epoch(loader);

        Assert.Equal(10, loader.BatchesPerEpoch);
        Assert.Equal(10, batches.Count);
        Assert.All(batches, b => Assert.Equal(10, b.Length));
        Assert.Equal(100, batches.SelectMany(b => b).Distinct().Count());
    }

    [Fact]
    public void Without_shuffle_batches_follow_index_order()
    {
        var loader = new DataLoader(Numbered(7), batchSize: 3);

        Assert.Equal([[0, 1, 2], [3, 4, 5], [6]], Epoch(loader));
        Assert.Equal([[0, 1, 2], [3, 4, 5], [6]], Epoch(loader));
    }

    [Fact]
    public void The_same_seed_gives_the_same_order_and_each_epoch_a_new_one()
    {
        var a = new DataLoader(Numbered(50), batchSize: 8, shuffle: true, generator: new Generator(42));
        var b = new DataLoader(Numbered(50), batchSize: 8, shuffle: true, generator: new Generator(42), prefetch: 0);
        var c = new DataLoader(Numbered(50), batchSize: 8, shuffle: true, generator: new Generator(43));

        var a1 = Epoch(a).SelectMany(x => x).ToArray();
        var a2 = Epoch(a).SelectMany(x => x).ToArray();
        var b1 = Epoch(b).SelectMany(x => x).ToArray();
        var b2 = Epoch(b).SelectMany(x => x).ToArray();
        var c1 = Epoch(c).SelectMany(x => x).ToArray();

        Assert.Equal(a1, b1);
        Assert.Equal(a2, b2);
        Assert.NotEqual(a1, a2);
        Assert.NotEqual(a1, c1);
        Assert.Equal(2, a.Epoch);
    }

    private sealed class FailingDataset(int failAtBatch) : Dataset
    {
        private readonly TensorDataset _inner = Numbered(40);
        private int _calls;

        public Thread? WorkerThread { get; private set; }

        public override int Count => _inner.Count;

        public override Tensor[] this[int index] => _inner[index];

        public override Tensor[] GetBatch(ReadOnlySpan<int> indices)
        {
            WorkerThread = Thread.CurrentThread;
            if (_calls++ == failAtBatch) throw new InvalidOperationException($"decoding failed at batch {failAtBatch}");
            return _inner.GetBatch(indices);
        }
    }

    [Fact]
    public void An_exception_on_the_prefetch_thread_surfaces_on_the_consumer_after_the_batches_before_it()
    {
        var dataset = new FailingDataset(failAtBatch: 2);
        var loader = new DataLoader(dataset, batchSize: 4, prefetch: 2);
        var received = new List<int[]>();

        var e = Assert.Throws<InvalidOperationException>(() =>
        {
            foreach (var batch in loader) received.Add(batch.Indices.ToArray());
        });

        Assert.Equal("decoding failed at batch 2", e.Message);
        Assert.Equal([[0, 1, 2, 3], [4, 5, 6, 7]], received);
        Assert.NotSame(Thread.CurrentThread, dataset.WorkerThread);
        Assert.False(dataset.WorkerThread!.IsAlive);
    }

    [Fact]
    public void Breaking_out_of_an_epoch_stops_the_worker_and_a_new_epoch_can_start()
    {
        var dataset = new FailingDataset(failAtBatch: -1);
        var loader = new DataLoader(dataset, batchSize: 4, shuffle: true, generator: new Generator(3), prefetch: 1);

        foreach (var batch in loader)
        {
            Assert.Equal(4, batch.Size);
            break;
        }

        Assert.NotNull(dataset.WorkerThread);
        Assert.False(dataset.WorkerThread!.IsAlive);
        Assert.Equal(10, Epoch(loader).Count);
        Assert.Equal(2, loader.Epoch);
    }

    private sealed class CountingDataset : Dataset
    {
        private readonly TensorDataset _inner = Numbered(100);
        private int _assembled;

        public int Assembled => Volatile.Read(ref _assembled);

        public override int Count => _inner.Count;

        public override Tensor[] this[int index] => _inner[index];

        public override Tensor[] GetBatch(ReadOnlySpan<int> indices)
        {
            Interlocked.Increment(ref _assembled);
            return _inner.GetBatch(indices);
        }
    }

    [Fact]
    public void Prefetch_stays_a_bounded_number_of_batches_ahead()
    {
        var dataset = new CountingDataset();
        var loader = new DataLoader(dataset, batchSize: 5, prefetch: 1);

        using var epoch = loader.GetEnumerator();
        Assert.True(epoch.MoveNext());
        // Handed out 1; one may wait in the queue and one more be assembled, blocked on the full queue.
        Assert.True(SpinWait.SpinUntil(() => dataset.Assembled >= 3, TimeSpan.FromSeconds(10)));
        Thread.Sleep(50);
        Assert.Equal(3, dataset.Assembled);
    }

    [Fact]
    public void A_second_enumeration_while_one_is_open_is_refused()
    {
        var loader = new DataLoader(Numbered(10), batchSize: 2);
        using var first = loader.GetEnumerator();
        first.MoveNext();

        var e = Assert.Throws<InvalidOperationException>(() => loader.GetEnumerator());
        Assert.Contains("still being enumerated", e.Message);
    }

    [Fact]
    public void A_checkpoint_taken_mid_epoch_resumes_the_same_order_from_the_next_batch()
    {
        using var dir = new TempDirectory();
        var original = new DataLoader(Numbered(30), batchSize: 4, shuffle: true, generator: new Generator(11));
        Epoch(original);
        var secondEpoch = new List<int[]>();
        foreach (var batch in original)
        {
            secondEpoch.Add(batch.Indices.ToArray());
            if (secondEpoch.Count == 3)
            {
                var checkpoint = new Checkpoint();
                original.SaveState(checkpoint, "loader.");
                checkpoint.Save(dir.File("run.safetensors"));
            }
        }
        var thirdEpoch = Epoch(original);

        var resumed = new DataLoader(Numbered(30), batchSize: 4, shuffle: true, generator: new Generator(999));
        resumed.LoadState(Checkpoint.Load(dir.File("run.safetensors")), "loader.");
        Assert.Equal(2, resumed.Epoch);
        Assert.Equal(3, resumed.Position);

        Assert.Equal(secondEpoch.Skip(3), Epoch(resumed));
        Assert.Equal(2, resumed.Epoch);
        Assert.Equal(thirdEpoch, Epoch(resumed));
        Assert.Equal(3, resumed.Epoch);
    }

    [Fact]
    public void A_checkpoint_taken_between_epochs_starts_the_next_epoch_as_the_original_would()
    {
        var original = new DataLoader(Numbered(30), batchSize: 4, shuffle: true, generator: new Generator(5));
        Epoch(original);
        var checkpoint = new Checkpoint();
        original.SaveState(checkpoint, "");
        var next = Epoch(original);

        var resumed = new DataLoader(Numbered(30), batchSize: 4, shuffle: true, generator: new Generator(6));
        resumed.LoadState(checkpoint, "");

        Assert.Equal("0", checkpoint.Metadata["position"]);
        Assert.Equal(next, Epoch(resumed));
        Assert.Equal(2, resumed.Epoch);
    }

    [Fact]
    public void Resuming_mid_epoch_with_a_different_batch_size_is_refused()
    {
        var original = new DataLoader(Numbered(30), batchSize: 4, shuffle: true, generator: new Generator(5));
        var checkpoint = new Checkpoint();
        foreach (var _ in original)
        {
            original.SaveState(checkpoint, "");
            break;
        }

        var other = new DataLoader(Numbered(30), batchSize: 5, shuffle: true);
        var e = Assert.Throws<InvalidDataException>(() => other.LoadState(checkpoint, ""));
        Assert.Contains("batches of 4", e.Message);
    }
}
