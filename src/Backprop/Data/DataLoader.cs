using System.Collections;
using System.Globalization;
using Backprop.IO;

namespace Backprop.Data;

/// <summary>
/// Hands out a dataset in batches, one pass (epoch) per <c>foreach</c>: optionally shuffled by its own seedable
/// <see cref="Generator"/>, optionally dropping a last short batch, and assembling the next batches on a worker thread
/// while the current one trains.
/// </summary>
/// <remarks>
/// <para>
/// Each enumeration is a new epoch. Its order is drawn from <see cref="Generator"/> when the epoch starts, on the
/// calling thread, so the order depends only on the generator's state: the same seed gives the same batches whether
/// or not they are prefetched. Give the loader a generator of its own (the default is one seeded from
/// <see cref="Generator.Default"/>), so that nothing else draws from it between epochs.
/// </para>
/// <para>
/// The loader is <see cref="ICheckpointable"/>: its state is the epoch count, the position within the epoch and the
/// generator. Saved during an epoch (inside the <c>foreach</c>), a restored loader's next enumeration finishes that
/// epoch, in the same order, from the batch after the last one handed out; saved between epochs, it starts the next.
/// </para>
/// <para>
/// Batches are assembled with gradient recording off, and a batch that failed to assemble rethrows its exception
/// from <c>MoveNext</c> after the batches before it. Breaking out of the loop stops the worker thread.
/// </para>
/// </remarks>
public sealed class DataLoader : IEnumerable<Batch>, ICheckpointable
{
    private int _epoch;
    private int _position;
    private byte[] _epochStartState;
    private bool _resumePending;
    private bool _enumerating;

    /// <param name="dataset">The samples.</param>
    /// <param name="batchSize">Samples per batch (the last batch of an epoch may be smaller unless <paramref name="dropLast"/>).</param>
    /// <param name="shuffle">Visit the samples in a new random order each epoch, rather than in index order.</param>
    /// <param name="dropLast">Skip the last batch of an epoch when it would be smaller than <paramref name="batchSize"/>.</param>
    /// <param name="generator">The source of shuffling orders; by default a new generator seeded from <see cref="Generator.Default"/>.</param>
    /// <param name="prefetch">How many assembled batches may wait ahead of the consumer (one more is being assembled);
    /// 0 assembles each batch on the consumer's thread when it is asked for. By default 1 when the dataset's
    /// <see cref="Data.Dataset.PrefetchByDefault"/> says so, else 0 (tensors in memory).</param>
    public DataLoader(Dataset dataset, int batchSize, bool shuffle = false, bool dropLast = false, Generator? generator = null, int? prefetch = null)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (prefetch is { } ahead) ArgumentOutOfRangeException.ThrowIfNegative(ahead, nameof(prefetch));
        Dataset = dataset;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Prefetch = prefetch ?? (dataset.PrefetchByDefault ? 1 : 0);
        Generator = generator ?? new Generator(Generator.Default.NextUInt64());
        _epochStartState = Generator.GetState();
    }

    public Dataset Dataset { get; }

    public int BatchSize { get; }

    public bool Shuffle { get; }

    public bool DropLast { get; }

    public int Prefetch { get; }

    /// <summary>Draws each shuffled epoch's order. Its state, with <see cref="Epoch"/> and <see cref="Position"/>, is the loader's state.</summary>
    public Generator Generator { get; }

    /// <summary>Epochs started so far: 0 before the first enumeration, 1 during the first.</summary>
    public int Epoch => _epoch;

    /// <summary>Batches handed out so far in the current epoch.</summary>
    public int Position => _position;

    /// <summary>Batches in one epoch for the dataset's current size.</summary>
    public int BatchesPerEpoch => DropLast ? Dataset.Count / BatchSize : (Dataset.Count + BatchSize - 1) / BatchSize;

    /// <summary>Starts an epoch (or resumes a restored one) and enumerates its batches.</summary>
    public IEnumerator<Batch> GetEnumerator()
    {
        if (_enumerating)
            throw new InvalidOperationException("DataLoader: the previous epoch is still being enumerated; finish or dispose it before starting another.");
        int first;
        if (_resumePending)
        {
            Generator.SetState(_epochStartState);
            first = _position;
            _resumePending = false;
        }
        else
        {
            _epochStartState = Generator.GetState();
            _epoch++;
            _position = 0;
            first = 0;
        }
        int count = Dataset.Count;
        int[] order = Shuffle ? Generator.Permutation(count) : Enumerable.Range(0, count).ToArray();
        _enumerating = true;
        return new EpochEnumerator(this, order, first, BatchesPerEpoch);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private Batch Assemble(int[] order, int batch)
    {
        int start = batch * BatchSize;
        var indices = order.AsSpan(start, Math.Min(BatchSize, order.Length - start));
        return new Batch(Dataset.GetBatch(indices), indices.ToArray());
    }

    public void SaveState(Checkpoint checkpoint, string prefix)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        bool midEpoch = _enumerating && _position < BatchesPerEpoch;
        checkpoint.Metadata[prefix + "epoch"] = _epoch.ToString(CultureInfo.InvariantCulture);
        checkpoint.Metadata[prefix + "position"] = (midEpoch ? _position : 0).ToString(CultureInfo.InvariantCulture);
        checkpoint.Metadata[prefix + "count"] = Dataset.Count.ToString(CultureInfo.InvariantCulture);
        checkpoint.Metadata[prefix + "batchSize"] = BatchSize.ToString(CultureInfo.InvariantCulture);
        // Mid-epoch the state to keep is the one the epoch's order was drawn from, so a resumed run redraws that order.
        checkpoint.Metadata[prefix + "generator"] = Convert.ToBase64String(midEpoch ? _epochStartState : Generator.GetState());
    }

    public void LoadState(Checkpoint checkpoint, string prefix)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (_enumerating) throw new InvalidOperationException("DataLoader: cannot load state while an epoch is being enumerated.");
        int epoch = ReadInt(checkpoint, prefix + "epoch");
        int position = ReadInt(checkpoint, prefix + "position");
        var state = checkpoint.GetGeneratorState(prefix + "generator");
        if (position > 0)
        {
            int count = ReadInt(checkpoint, prefix + "count");
            int batchSize = ReadInt(checkpoint, prefix + "batchSize");
            if (count != Dataset.Count || batchSize != BatchSize)
                throw new InvalidDataException(
                    $"DataLoader: the checkpoint stopped mid-epoch with {count} samples in batches of {batchSize}; this loader has {Dataset.Count} in batches of {BatchSize}, so the epoch cannot be resumed.");
            _epochStartState = state;
            _resumePending = true;
        }
        else
        {
            Generator.SetState(state);
            _resumePending = false;
        }
        _epoch = epoch;
        _position = position;
    }

    private static int ReadInt(Checkpoint checkpoint, string key)
    {
        var text = checkpoint.GetMetadata(key);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new InvalidDataException($"DataLoader: checkpoint metadata '{key}' = '{text}' is not a non-negative integer.");
    }

    /// <summary>One epoch's batches, from the plan drawn when the epoch started.</summary>
    private sealed class EpochEnumerator(DataLoader loader, int[] order, int first, int end) : IEnumerator<Batch>
    {
        private readonly int _first = first;
        private int _next = first;
        private BatchPrefetcher? _prefetcher;
        private Batch? _current;
        private bool _disposed;

        public Batch Current => _current ?? throw new InvalidOperationException("DataLoader: MoveNext has not produced a batch.");

        object IEnumerator.Current => Current;

        public bool MoveNext()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_next >= end) return false;
            Batch batch;
            if (loader.Prefetch == 0)
            {
                using (Autograd.NoGrad()) batch = loader.Assemble(order, _next);
            }
            else
            {
                _prefetcher ??= new BatchPrefetcher(i => loader.Assemble(order, _first + i), end - _first, loader.Prefetch);
                if (!_prefetcher.TryTake(out batch)) return false;
            }
            _current = batch;
            _next++;
            loader._position = _next;
            return true;
        }

        public void Reset() => throw new NotSupportedException("DataLoader: start a new foreach for a new epoch.");

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            _prefetcher?.Dispose();
            loader._enumerating = false;
        }
    }
}
