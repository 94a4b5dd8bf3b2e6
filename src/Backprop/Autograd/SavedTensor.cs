using Backprop.Diagnostics;

namespace Backprop;

/// <summary>
/// One tensor kept for backward: held directly with the storage version it had (so a later in-place change is
/// caught), or, inside a gradient checkpoint, a <see cref="RecomputedTensor"/> handle that holds no data and is
/// filled by running the checkpointed function again during backward.
/// </summary>
internal readonly struct SavedTensor
{
    private SavedTensor(Tensor? tensor, int version, RecomputedTensor? handle)
    {
        Tensor = tensor;
        Version = version;
        Handle = handle;
    }

    /// <summary>The tensor, when held directly.</summary>
    public Tensor? Tensor { get; }

    public int Version { get; }

    /// <summary>The handle, when the tensor is recomputed in backward instead of held.</summary>
    public RecomputedTensor? Handle { get; }

    public bool IsEmpty => Tensor is null && Handle is null;

    /// <summary>
    /// Keeps <paramref name="tensor"/> for backward the way the innermost active saver says (a checkpoint region
    /// turns the tensors it created into handles; a recomputation captures what it saves), or directly outside both.
    /// </summary>
    public static SavedTensor Pack(Tensor tensor) => TensorSaver.Current is { } saver ? saver.Pack(tensor) : Hold(tensor);

    /// <summary>Holds <paramref name="tensor"/> itself, counted by the memory meter when one runs.</summary>
    public static SavedTensor Hold(Tensor tensor)
    {
        SavedMemoryMeter.Active?.Hold(tensor);
        return new SavedTensor(tensor, tensor.Storage.Version, null);
    }

    public static SavedTensor Recompute(RecomputedTensor handle) => new(null, 0, handle);

    /// <summary>Tells the memory meter that this saved tensor is no longer held (its node released it).</summary>
    public void Drop()
    {
        if (Tensor is { } t) SavedMemoryMeter.Active?.Drop(t);
        Handle?.Release();
    }
}

/// <summary>
/// Decides how the ops recorded while it is current keep their tensors for backward. Savers nest: the innermost
/// (a checkpoint region inside another, or a recomputation) is current. Per thread, as the forward pass of one
/// region runs on the thread that called <see cref="GradientCheckpoint"/> (kernels may fan out to other threads, but
/// nodes are recorded on the calling one).
/// </summary>
internal abstract class TensorSaver
{
    [ThreadStatic] private static TensorSaver? t_current;

    public static TensorSaver? Current => t_current;

    /// <summary>The saver that was current when this one began, restored when it ends.</summary>
    private TensorSaver? _outer;

    public abstract SavedTensor Pack(Tensor tensor);

    public void Enter()
    {
        _outer = t_current;
        t_current = this;
    }

    public void Leave() => t_current = _outer;
}
