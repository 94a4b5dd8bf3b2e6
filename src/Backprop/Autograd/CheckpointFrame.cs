using Backprop.Diagnostics;

namespace Backprop;

/// <summary>
/// One call of a checkpointed function: its inputs (kept the way the enclosing saver keeps tensors, so a checkpoint
/// nested in another holds nothing of its own), the generator states it began with, and, while its forward pass runs,
/// the saver that turns each tensor the region created into a <see cref="RecomputedTensor"/> handle. In backward, the
/// first handle fetched runs the function again from the same inputs and generator states, capturing what each op
/// saves in the same order; each handle then takes its tensor (see Note [Gradient checkpointing] in docs/architecture.md).
/// </summary>
internal sealed class CheckpointFrame : TensorSaver
{
    private readonly Func<Tensor[], Tensor> _function;
    private readonly SavedTensor[] _inputs;
    private readonly bool[] _inputRequiresGrad;
    private readonly (Generator Generator, byte[] State)[] _generatorStates;
    private readonly AutocastState _autocast;

    // Storages allocated after this serial were made by the region, and are recomputed instead of held.
    private readonly long _storageFloor;

    // Every tensor the region's ops saved gets an index, in order; those recomputed are marked.
    private int _savedCount;
    private readonly List<bool> _isRecomputed = [];

    // Handles made, and released by their nodes: once all are, nothing will recompute the region and its inputs go.
    private int _handles;
    private int _releasedHandles;

    // Handles whose source tensor is still held: until the region's forward pass ends, when each learns its grad_fn.
    private List<RecomputedTensor>? _unsealed;

    // The tensors the latest recomputation captured, by index (null once taken, or where held directly).
    private Tensor?[]? _recomputed;
    private int _recomputedRun;

    public CheckpointFrame(Func<Tensor[], Tensor> function, IReadOnlyList<Tensor> inputs, IReadOnlyList<Generator> generators)
    {
        _function = function;
        _inputs = new SavedTensor[inputs.Count];
        _inputRequiresGrad = new bool[inputs.Count];
        for (int i = 0; i < inputs.Count; i++)
        {
            _inputs[i] = SavedTensor.Pack(inputs[i]);
            _inputRequiresGrad[i] = inputs[i].RequiresGrad;
        }
        _generatorStates = generators.Select(g => (g, g.GetState())).ToArray();
        _autocast = Autocast.CurrentState;
        _storageFloor = Storage.LatestSerial;
    }

    public override SavedTensor Pack(Tensor tensor)
    {
        int index = _savedCount++;
        bool createdHere = tensor.Storage.Serial > _storageFloor && !(tensor.IsLeaf && tensor.RequiresGrad);
        _isRecomputed.Add(createdHere);
        if (!createdHere) return SavedTensor.Hold(tensor);
        // The source stays alive (and counted) until the region's forward pass ends, as it would without checkpointing.
        SavedMemoryMeter.Active?.Hold(tensor);
        var handle = new RecomputedTensor(this, index, tensor);
        _handles++;
        (_unsealed ??= []).Add(handle);
        return SavedTensor.Recompute(handle);
    }

    /// <summary>Ends the region's forward pass: the handles let go of their tensors.</summary>
    public void EndForward()
    {
        if (_handles == 0) ReleaseInputs();
        if (_unsealed is null) return;
        foreach (var handle in _unsealed)
        {
            if (handle.Source is { } source) SavedMemoryMeter.Active?.Drop(source);
            handle.Seal();
        }
        _unsealed = null;
    }

    /// <summary>Called as each node holding a handle of this region is released by backward.</summary>
    public void ReleaseHandle()
    {
        if (++_releasedHandles == _handles) ReleaseInputs();
    }

    /// <summary>Lets go of the inputs: no handle is left to recompute the region from them.</summary>
    private void ReleaseInputs()
    {
        for (int i = 0; i < _inputs.Length; i++)
        {
            _inputs[i].Drop();
            _inputs[i] = default;
        }
    }

    /// <summary>Recomputed tensor <paramref name="index"/>, recomputing the region if this backward pass has not yet (or took it already).</summary>
    public Tensor Take(int index, string owner)
    {
        int run = Engine.CurrentRunId;
        if (_recomputed is null || _recomputedRun != run || _recomputed[index] is null) Recompute(run, owner);
        var tensor = _recomputed![index]!;
        _recomputed[index] = null;
        return tensor;
    }

    /// <summary>Frees what the latest recomputation captured and no backward took.</summary>
    public void ForgetRecomputed()
    {
        if (_recomputed is not { } recomputed) return;
        _recomputed = null;
        foreach (var t in recomputed) if (t is not null) SavedMemoryMeter.Active?.Drop(t);
    }

    private void Recompute(int run, string owner)
    {
        ForgetRecomputed();
        var inputs = new Tensor[_inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            var input = Input(i, owner);
            inputs[i] = input.Detach();
            if (_inputRequiresGrad[i]) inputs[i].RequiresGrad = true;
        }

        var capture = new Recomputation(_isRecomputed);
        var stashed = _generatorStates.Select(s => s.Generator.GetState()).ToArray();
        foreach (var (generator, state) in _generatorStates) generator.SetState(state);
        capture.Enter();
        GradientCheckpoint.RecomputeDepth++;
        try
        {
            using var autocast = Autocast.Restore(_autocast);
            using var grad = Autograd.EnableGrad();
            _function(inputs);
        }
        finally
        {
            GradientCheckpoint.RecomputeDepth--;
            capture.Leave();
            for (int i = 0; i < stashed.Length; i++) _generatorStates[i].Generator.SetState(stashed[i]);
        }
        if (capture.Count != _savedCount)
        {
            foreach (var t in capture.Captured) if (t is not null) SavedMemoryMeter.Active?.Drop(t);
            throw new InvalidOperationException(
                $"Checkpoint: recomputing the checkpointed function for the backward of {owner} saved {capture.Count} tensors, but its " +
                $"forward pass saved {_savedCount}. The function must run the same ops each time it is called (same control flow; " +
                "pass any generator it draws from, other than Generator.Default, to Checkpoint so its state is replayed).");
        }
        _recomputed = capture.Captured;
        _recomputedRun = run;
        Engine.FreeAfterRun(this);
    }

    private Tensor Input(int i, string owner)
    {
        var saved = _inputs[i];
        if (saved.IsEmpty) throw new InvalidOperationException($"Checkpoint: the backward of {owner} needs a region whose graph was already freed.");
        if (saved.Handle is { } handle)
        {
            var input = handle.Unpack(owner);
            SavedMemoryMeter.Active?.Drop(input);
            return input;
        }
        var tensor = saved.Tensor!;
        if (tensor.Storage.Version != saved.Version)
            throw new InvalidOperationException(
                $"Checkpoint: input {i} of a checkpointed function (a {tensor.DType.DisplayName()} tensor of shape {tensor.Shape}) was changed " +
                $"in place after the forward pass (version {saved.Version}, now {tensor.Storage.Version}), so the backward of {owner} cannot " +
                "recompute the region from it. Clone the input before changing it.");
        return tensor;
    }

    /// <summary>The saver current while a region is recomputed: it captures what each op saves, by index.</summary>
    private sealed class Recomputation(List<bool> isRecomputed) : TensorSaver
    {
        public Tensor?[] Captured { get; } = new Tensor?[isRecomputed.Count];

        public int Count { get; private set; }

        public override SavedTensor Pack(Tensor tensor)
        {
            int index = Count++;
            if (index < Captured.Length && isRecomputed[index])
            {
                var captured = tensor.Detach();
                SavedMemoryMeter.Active?.Hold(captured);
                Captured[index] = captured;
            }
            // The recomputed graph is never run backward (the handles give their tensors to the original one).
            return default;
        }
    }

    /// <summary>The saver of a checkpoint nested in a region being recomputed: the outer one needs nothing from inside it.</summary>
    internal sealed class Discard : TensorSaver
    {
        public override SavedTensor Pack(Tensor tensor) => default;
    }
}

/// <summary>
/// A tensor a checkpoint region saved for backward and did not keep: its index in the region's saves and the graph
/// position (grad_fn) of the original, so that under <c>createGraph</c> the recomputed value differentiates like the original.
/// </summary>
internal sealed class RecomputedTensor
{
    private readonly CheckpointFrame _frame;
    private readonly int _index;
    private readonly int[] _sizes;
    private readonly DType _dtype;
    private Node? _gradFn;
    private bool _released;

    public RecomputedTensor(CheckpointFrame frame, int index, Tensor source)
    {
        _frame = frame;
        _index = index;
        _sizes = source.Sizes;
        _dtype = source.DType;
        Source = source;
    }

    /// <summary>The original tensor, held only while the region's forward pass runs (its grad_fn may be attached after it is saved).</summary>
    public Tensor? Source { get; private set; }

    /// <summary>Its node was released: the region's inputs may go once every handle has been.</summary>
    public void Release()
    {
        if (_released) return;
        _released = true;
        _frame.ReleaseHandle();
    }

    public void Seal()
    {
        _gradFn = Source?.GradFn;
        Source = null;
    }

    /// <param name="owner">Who asks (a node's name), for error messages.</param>
    public Tensor Unpack(string owner)
    {
        var recomputed = _frame.Take(_index, owner);
        if (recomputed.DType != _dtype || !recomputed.Sizes.AsSpan().SequenceEqual(_sizes))
            throw new InvalidOperationException(
                $"Checkpoint: {owner} saved a {_dtype.DisplayName()} tensor of shape {Shape.Format(_sizes)} in the forward pass, but recomputing " +
                $"the checkpointed function gave a {recomputed.DType.DisplayName()} tensor of shape {recomputed.Shape}: the function must be deterministic.");
        var tensor = new Tensor(recomputed.Storage, recomputed.Sizes, recomputed.StrideArray, recomputed.Offset);
        if ((Source?.GradFn ?? _gradFn) is { } gradFn) tensor.SetGradFn(gradFn);
        return tensor;
    }
}
