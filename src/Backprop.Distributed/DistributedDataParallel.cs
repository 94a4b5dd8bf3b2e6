using Backprop.Nn;

namespace Backprop.Distributed;

/// <summary>
/// Data-parallel training (PyTorch's <c>DistributedDataParallel</c>): every rank holds a replica of
/// <see cref="Module"/>, runs it on its own shard of the global batch, and after backward every replica has the mean
/// gradient over all shards, so identical optimizer steps keep the replicas identical.
/// </summary>
/// <remarks>
/// <para>At construction rank 0's parameters and buffers are broadcast to every rank. Gradients are averaged by a
/// <see cref="GradientReducer"/>: all-reduce in buckets launched from gradient hooks while backward runs.</para>
/// <para>Buffers (BatchNorm's running statistics) are broadcast from rank 0 before each training forward, as PyTorch's
/// <c>broadcast_buffers</c> does, so every replica normalizes alike and evaluates with rank 0's statistics.</para>
/// <para>With equal shard sizes and a loss that is a mean over the shard, the averaged gradient is the gradient of the
/// mean over the global batch: N steps on N ranks match one process on the concatenated batch.</para>
/// </remarks>
public sealed class DistributedDataParallel<TInput, TOutput> : Module<TInput, TOutput>, IDisposable
{
    private readonly GradientReducer _reducer;
    private readonly (string Name, Tensor Buffer)[] _buffers;

    /// <param name="module">The replica on this rank; its parameters are overwritten with rank 0's.</param>
    /// <param name="group">The ranks training together (<see cref="MpiProcessGroup.Initialize"/>).</param>
    /// <param name="bucketCapBytes">Gradient bytes per all-reduce (25 MB by default, as PyTorch).</param>
    /// <param name="overlap">All-reduce during backward (true) or after it (false, to measure the overlap).</param>
    /// <param name="broadcastBuffers">Broadcast rank 0's buffers before each training forward.</param>
    public DistributedDataParallel(Module<TInput, TOutput> module, IProcessGroup group,
        long bucketCapBytes = GradientReducer.DefaultBucketCapBytes, bool overlap = true, bool broadcastBuffers = true)
    {
        Module = module;
        Group = group;
        BroadcastBuffers = broadcastBuffers;
        _buffers = [.. module.NamedBuffers()];
        TensorBroadcast.FromRoot(module.NamedParameters().Select(p => (p.Name, (Tensor)p.Parameter)), group, root: 0);
        TensorBroadcast.FromRoot(_buffers, group, root: 0);
        _reducer = new GradientReducer(module.NamedParameters(), group, bucketCapBytes, overlap);
    }

    /// <summary>The wrapped replica (save and load its state: its names lack the "module." prefix).</summary>
    public Module<TInput, TOutput> Module { get; }

    public IProcessGroup Group { get; }

    public bool BroadcastBuffers { get; }

    /// <summary>The gradient all-reducer, with its buckets and timings.</summary>
    public GradientReducer Reducer => _reducer;

    /// <summary>
    /// Within the returned scope backward only accumulates local gradients (no communication): for gradient
    /// accumulation, run all micro-batches but the last inside it; the last backward averages the accumulated sums.
    /// </summary>
    public IDisposable NoSync()
    {
        bool previous = _reducer.RequireSync;
        _reducer.RequireSync = false;
        return new RemovableHandle(() => _reducer.RequireSync = previous);
    }

    /// <summary>
    /// Overwrites every rank's buffers with rank 0's (every rank must call it): before evaluating, since each
    /// replica's running statistics last moved with its own shard.
    /// </summary>
    public void BroadcastBuffersFromRoot() => TensorBroadcast.FromRoot(_buffers, Group, root: 0);

    protected override TOutput ForwardCore(TInput input)
    {
        _reducer.DiscardUnfinishedBackward();
        if (BroadcastBuffers && IsTraining && _buffers.Length > 0 && Group.Size > 1)
            TensorBroadcast.FromRoot(_buffers, Group, root: 0);
        return Module.Forward(input);
    }

    /// <summary>Removes the gradient hooks and stops the communication thread.</summary>
    public void Dispose() => _reducer.Dispose();
}
