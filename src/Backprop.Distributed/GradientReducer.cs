using System.Collections.Concurrent;
using System.Diagnostics;
using Backprop.Nn;

namespace Backprop.Distributed;

/// <summary>
/// Averages the gradients of a set of parameters over a process group during backward: each parameter's
/// post-accumulate hook copies its gradient into its bucket; a full bucket is handed to a communication thread, in
/// bucket order (every rank must issue the same collectives in the same order), so the all-reduce of the last layers'
/// gradients runs while backward is still computing the first layers'. At the end of backward a queued callback waits
/// for the last bucket and writes the means back into <see cref="Tensor.Grad"/>.
/// </summary>
/// <remarks>
/// Buckets follow PyTorch's reducer: parameters in reverse registration order (roughly the order backward produces
/// their gradients), a small first bucket (1 MB) so communication starts early, then buckets of the configured cap.
/// </remarks>
public sealed class GradientReducer : IDisposable
{
    /// <summary>PyTorch's default bucket cap: 25 MB.</summary>
    public const long DefaultBucketCapBytes = 25L * 1024 * 1024;

    private const long FirstBucketCapBytes = 1024 * 1024;

    private readonly IProcessGroup _group;
    private readonly GradientBucket[] _buckets;
    private readonly Dictionary<Parameter, (GradientBucket Bucket, int Slot)> _slots = new(ReferenceEqualityComparer.Instance);
    private readonly List<RemovableHandle> _hooks = [];
    private readonly BlockingCollection<GradientBucket>? _queue;
    private readonly Thread? _worker;
    private readonly SemaphoreSlim _done = new(0);
    private Exception? _workerError;
    private int _nextToLaunch;
    private int _launched;
    private bool _callbackQueued;
    private long _allReduceTicks;
    private long _waitTicks;

    /// <param name="parameters">Named parameters; those that do not require grad are left out.</param>
    /// <param name="bucketCapBytes">Largest bucket, in bytes of gradient (a parameter larger than it gets a bucket alone).</param>
    /// <param name="overlap">
    /// All-reduce each bucket on a background thread as soon as it fills (the default). False runs every all-reduce
    /// after backward, on the calling thread: slower, for measuring what the overlap hides.
    /// </param>
    public GradientReducer(IEnumerable<(string Name, Parameter Parameter)> parameters, IProcessGroup group,
        long bucketCapBytes = DefaultBucketCapBytes, bool overlap = true)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketCapBytes, 1);
        _group = group;
        var trainable = parameters.Where(p => p.Parameter.RequiresGrad).Reverse().ToList();
        foreach (var (name, p) in trainable)
            if (p.DType is not (DType.Float32 or DType.Float64))
                throw new ArgumentException($"GradientReducer: parameter {name} is {p.DType.DisplayName()}; gradients are all-reduced in float32 or float64 only.");
        _buckets = [.. BuildBuckets(trainable, bucketCapBytes)];
        foreach (var bucket in _buckets)
            for (int i = 0; i < bucket.Members.Count; i++)
            {
                var parameter = bucket.Members[i].Parameter;
                _slots[parameter] = (bucket, i);
                _hooks.Add(parameter.RegisterPostAccumulateGradHook(OnGradientAccumulated));
            }
        Overlap = overlap;
        if (overlap && _buckets.Length > 0)
        {
            _queue = new BlockingCollection<GradientBucket>();
            _worker = new Thread(Communicate) { IsBackground = true, Name = $"GradientReducer rank {group.Rank}" };
            _worker.Start();
        }
    }

    /// <summary>Whether all-reduces overlap backward.</summary>
    public bool Overlap { get; }

    /// <summary>Whether hooks all-reduce at all; false inside <see cref="DistributedDataParallel{TInput, TOutput}.NoSync"/>.</summary>
    public bool RequireSync { get; set; } = true;

    /// <summary>The buckets, in launch order: the names of their parameters and their size in bytes.</summary>
    public IReadOnlyList<(IReadOnlyList<string> Parameters, long Bytes)> Buckets =>
        [.. _buckets.Select(b => ((IReadOnlyList<string>)[.. b.Members.Select(m => m.Name)], b.Bytes))];

    /// <summary>Seconds spent inside all-reduce calls since construction.</summary>
    public double AllReduceSeconds => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _allReduceTicks)).TotalSeconds;

    /// <summary>
    /// Seconds backward's end spent waiting for all-reduces (all of <see cref="AllReduceSeconds"/> without overlap);
    /// the difference is the communication hidden behind computation.
    /// </summary>
    public double WaitSeconds => Stopwatch.GetElapsedTime(0, _waitTicks).TotalSeconds;

    private static List<GradientBucket> BuildBuckets(List<(string Name, Parameter Parameter)> parameters, long capBytes)
    {
        var buckets = new List<GradientBucket>();
        foreach (var dtype in parameters.Select(p => p.Parameter.DType).Distinct())
        {
            var current = new List<(string, Parameter)>();
            long bytes = 0;
            foreach (var (name, p) in parameters.Where(p => p.Parameter.DType == dtype))
            {
                long size = p.NumElements * dtype.ElementSize();
                long cap = buckets.Count == 0 ? Math.Min(capBytes, FirstBucketCapBytes) : capBytes;
                if (current.Count > 0 && bytes + size > cap)
                {
                    buckets.Add(new GradientBucket(buckets.Count, dtype, current));
                    (current, bytes) = ([], 0);
                }
                current.Add((name, p));
                bytes += size;
            }
            if (current.Count > 0) buckets.Add(new GradientBucket(buckets.Count, dtype, current));
        }
        return buckets;
    }

    private void OnGradientAccumulated(Tensor leaf)
    {
        if (!RequireSync) return;
        var (bucket, slot) = _slots[(Parameter)leaf];
        if (!_callbackQueued)
        {
            _callbackQueued = true;
            Autograd.QueueCallback(FinishBackward);
        }
        if (bucket.Ready[slot])
            throw new InvalidOperationException(
                $"DistributedDataParallel: parameter {bucket.Members[slot].Name} received two gradients in one backward pass; " +
                "its bucket was already being all-reduced. Run one backward per step (or use NoSync for all but the last).");
        bucket.Pack(slot, leaf.Grad!);
        bucket.Ready[slot] = true;
        bucket.ReadyCount++;
        // Launch strictly in bucket order: ranks whose backward fills buckets in another order still issue the same collectives.
        while (_nextToLaunch < _buckets.Length && _buckets[_nextToLaunch].IsFull)
        {
            var next = _buckets[_nextToLaunch++];
            if (_queue is { } queue)
            {
                _launched++;
                queue.Add(next);
            }
        }
    }

    private void Communicate()
    {
        foreach (var bucket in _queue!.GetConsumingEnumerable())
        {
            try
            {
                if (_workerError is null) AllReduce(bucket);
            }
            catch (Exception e)
            {
                _workerError = e;
            }
            _done.Release();
        }
    }

    private void AllReduce(GradientBucket bucket)
    {
        long start = Stopwatch.GetTimestamp();
        bucket.AllReduceMean(_group);
        Interlocked.Add(ref _allReduceTicks, Stopwatch.GetTimestamp() - start);
    }

    private void FinishBackward()
    {
        _callbackQueued = false;
        long start = Stopwatch.GetTimestamp();
        int launched = _launched;
        _launched = 0;
        for (int i = 0; i < launched; i++) _done.Wait();
        if (_queue is null)
            for (int i = 0; i < _nextToLaunch; i++) AllReduce(_buckets[i]);
        _waitTicks += Stopwatch.GetTimestamp() - start;
        int complete = _nextToLaunch;
        _nextToLaunch = 0;
        if (_workerError is { } error)
        {
            _workerError = null;
            foreach (var b in _buckets) b.Reset();
            throw new InvalidOperationException($"DistributedDataParallel: the gradient all-reduce failed: {error.Message}", error);
        }
        if (complete < _buckets.Length)
        {
            var missing = _buckets.Skip(complete).SelectMany(b => b.Members.Where((_, i) => !b.Ready[i]).Select(m => m.Name)).ToList();
            foreach (var b in _buckets) b.Reset();
            throw new InvalidOperationException(
                $"DistributedDataParallel: backward produced no gradient for {string.Join(", ", missing)}, so " +
                $"{_buckets.Length - complete} gradient bucket(s) could not be all-reduced and the ranks would fall out of step. " +
                "Make every trainable parameter take part in the loss, or set RequiresGrad = false on those that do not.");
        }
        foreach (var bucket in _buckets)
        {
            bucket.Unpack();
            bucket.Reset();
        }
    }

    /// <summary>
    /// Forgets a backward pass that threw before its end (its callback never ran): waits for the all-reduces it
    /// launched and empties the buckets, so the next backward starts clean. Called before each training forward.
    /// </summary>
    public void DiscardUnfinishedBackward()
    {
        if (!_callbackQueued) return;
        for (int i = 0; i < _launched; i++) _done.Wait();
        (_launched, _nextToLaunch, _callbackQueued, _workerError) = (0, 0, false, null);
        foreach (var bucket in _buckets) bucket.Reset();
    }

    public void Dispose()
    {
        foreach (var hook in _hooks) hook.Dispose();
        _hooks.Clear();
        _queue?.CompleteAdding();
        _worker?.Join();
        _queue?.Dispose();
        _done.Dispose();
    }
}
