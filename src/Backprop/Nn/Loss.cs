using System.Runtime.CompilerServices;

namespace Backprop.Nn;

/// <summary>
/// A loss: a module from (input, target) to a loss tensor, reduced as <see cref="Reduction"/> says. Call
/// <see cref="Forward(Tensor, Tensor, string, int)"/>; implementers override <see cref="ForwardCore(Tensor, Tensor)"/>. Weights a
/// loss is built with are buffers, so they appear in its state dict (<c>weight</c>, <c>pos_weight</c>) as in PyTorch.
/// </summary>
public abstract class Loss : Module<(Tensor Input, Tensor Target), Tensor>
{
    protected Loss(Reduction reduction) => Reduction = reduction;

    public Reduction Reduction { get; }

    /// <summary>The loss of <paramref name="input"/> against <paramref name="target"/>.</summary>
    public Tensor Forward(Tensor input, Tensor target, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        Forward((input, target), callerFile, callerLine);

    protected sealed override Tensor ForwardCore((Tensor Input, Tensor Target) pair) => ForwardCore(pair.Input, pair.Target);

    protected abstract Tensor ForwardCore(Tensor input, Tensor target);

    protected override string ExtraDescription => $"reduction: {Reduction}";
}
