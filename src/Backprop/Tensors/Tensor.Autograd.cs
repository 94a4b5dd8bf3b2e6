using System.Runtime.CompilerServices;

namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// Backpropagates from this scalar: fills <see cref="Grad"/> of every leaf that requires grad with ∂this/∂leaf
    /// (adding to what is there). The graph is freed afterwards unless <paramref name="retainGraph"/>.
    /// </summary>
    /// <remarks>The caller's file and line are recorded for error messages (anomaly mode, the sentinel, in-place misuse).</remarks>
    public void Backward(bool retainGraph = false, bool createGraph = false,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        Engine.Run([this], Autograd.RootGradients([this], null), retainGraph || createGraph, createGraph, callerFile: callerFile, callerLine: callerLine);

    /// <summary>
    /// Backpropagates the vector-Jacobian product with <paramref name="gradient"/> (∂L/∂this, of this tensor's shape)
    /// into every leaf that requires grad.
    /// </summary>
    public void Backward(Tensor gradient, bool retainGraph = false, bool createGraph = false,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        Engine.Run([this], Autograd.RootGradients([this], [gradient]), retainGraph || createGraph, createGraph, callerFile: callerFile, callerLine: callerLine);

    /// <summary>Keeps this non-leaf tensor's gradient in <see cref="Grad"/> after backward (leaves always keep theirs).</summary>
    public Tensor RetainGrad()
    {
        if (_gradFn is { } node) node.RetainGradTarget = this;
        else if (!RequiresGrad)
            throw new InvalidOperationException("RetainGrad: this tensor does not require grad, so it will never receive a gradient.");
        return this;
    }

    /// <summary>Whether <see cref="RetainGrad"/> was called on this non-leaf tensor.</summary>
    public bool RetainsGrad => _gradFn is { } node && ReferenceEquals(node.RetainGradTarget, this);

    /// <summary>
    /// Registers <paramref name="hook"/> to run when this tensor's gradient has been computed. It sees the gradient and
    /// may return a replacement (or null to keep it). Dispose the handle to remove it.
    /// </summary>
    public RemovableHandle RegisterHook(Func<Tensor, Tensor?> hook)
    {
        var node = GradEdge ?? throw new InvalidOperationException(
            "RegisterHook: this tensor does not require grad, so it will never receive a gradient.");
        (node.PreHooks ??= []).Add(hook);
        return new RemovableHandle(() => node.PreHooks?.Remove(hook));
    }

    /// <summary>Registers a hook that only observes the gradient.</summary>
    public RemovableHandle RegisterHook(Action<Tensor> hook) => RegisterHook(g =>
    {
        hook(g);
        return null;
    });

    /// <summary>Clears <see cref="Grad"/>: to null by default (the next backward allocates it), or to zeros in place.</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        if (Grad is not { } grad) return;
        if (setToNone) _rare!.Grad = null;
        else
        {
            if (grad.GradFn is not null) _rare!.Grad = grad = grad.Detach();
            using (Autograd.NoGrad()) grad.FillInPlace(0);
        }
    }
}
