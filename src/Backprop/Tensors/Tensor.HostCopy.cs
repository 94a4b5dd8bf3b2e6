using System.Runtime.CompilerServices;

namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// Copies the elements, row-major and converted to <typeparamref name="T"/>, into <paramref name="destination"/>,
    /// which must hold exactly <see cref="NumElements"/> values (a buffer reused across calls, unlike <see cref="ToArray{T}"/>).
    /// </summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        if (destination.Length != NumElements)
            throw new ArgumentException($"CopyTo: the destination holds {destination.Length} values; the tensor of shape {Shape} has {NumElements}.", nameof(destination));
        Backend.Download<T>(Strided, destination);
    }

    /// <summary>
    /// Overwrites this tensor in place with <paramref name="source"/> (row-major, <see cref="NumElements"/> values,
    /// converted to this tensor's dtype), as <see cref="CopyFrom(Tensor, string, int)"/> does from a tensor.
    /// </summary>
    public Tensor CopyFrom<T>(ReadOnlySpan<T> source, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) where T : unmanaged
    {
        if (source.Length != NumElements)
            throw new ArgumentException($"CopyFrom: the source holds {source.Length} values; the tensor of shape {Shape} has {NumElements}.", nameof(source));
        _ = DTypeExtensions.Of<T>();
        return CopyFrom(new Tensor(Backend.Upload(source), Sizes), callerFile, callerLine);
    }

    /// <summary>
    /// Registers <paramref name="hook"/> to run on this leaf each time backward has accumulated a gradient into its
    /// <see cref="Grad"/> (PyTorch's <c>register_post_accumulate_grad_hook</c>): data-parallel training starts
    /// communicating a gradient there, while backward goes on. It does not run for <see cref="Autograd.Grad"/>, which
    /// leaves <see cref="Grad"/> alone.
    /// </summary>
    public RemovableHandle RegisterPostAccumulateGradHook(Action<Tensor> hook)
    {
        if (!IsLeaf || !RequiresGrad)
            throw new InvalidOperationException(
                $"RegisterPostAccumulateGradHook: only a leaf that requires grad accumulates a gradient; this tensor of shape {Shape} is {(IsLeaf ? "a leaf that does not require grad" : "computed by an op")}.");
        return GradEdge!.RegisterPostHook((_, _, _) => hook(this));
    }
}
