using System.Runtime.CompilerServices;
using Backprop.Ops;

namespace Backprop;

/// <remarks>
/// Each in-place method records its caller's file and line (caller-info attributes: constants compiled into the call,
/// no allocation), so a backward that finds a saved tensor changed can say which line changed it.
/// In-place ops write into this tensor's storage and bump its version, so a backward that saved the old values
/// fails loudly instead of computing a wrong gradient. While gradients are recorded, a leaf that requires grad
/// cannot be changed in place (its gradient would refer to values that are gone): update parameters inside
/// <c>Autograd.NoGrad()</c>.
/// </remarks>
public partial class Tensor
{
    /// <summary>this += alpha·other (other broadcasts to this tensor's shape).</summary>
    public Tensor AddInPlace(Tensor other, double alpha = 1, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        if (alpha != 1 && !(Autograd.IsGradEnabled && (RequiresGrad || other.RequiresGrad)) && !ForwardAD.Involves(this, other))
        {
            // The optimizer's hot path (p −= lr·g): one fused kernel, no scaled temporary.
            CheckInPlaceAllowed("AddInPlace");
            var src = SourceFor(other, "AddInPlace");
            Backend.Axpy(alpha, src.Strided, Strided);
            BumpVersion("AddInPlace", callerFile, callerLine);
            return this;
        }
        var scaled = alpha == 1 ? other : other * alpha;
        return InPlace("AddInPlace", scaled, BinaryOp.Add, () => this + scaled, callerFile, callerLine);
    }

    public Tensor AddInPlace(double value, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) => AddInPlace(ScalarLike(value), 1, callerFile, callerLine);

    public Tensor SubInPlace(Tensor other, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        InPlace("SubInPlace", other, BinaryOp.Sub, () => this - other, callerFile, callerLine);

    public Tensor MulInPlace(Tensor other, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        InPlace("MulInPlace", other, BinaryOp.Mul, () => this * other, callerFile, callerLine);

    public Tensor MulInPlace(double value, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) => MulInPlace(ScalarLike(value), callerFile, callerLine);

    public Tensor DivInPlace(Tensor other, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) =>
        InPlace("DivInPlace", other, BinaryOp.Div, () => this / other, callerFile, callerLine);

    public Tensor DivInPlace(double value, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) => DivInPlace(ScalarLike(value), callerFile, callerLine);

    /// <summary>Sets every element to <paramref name="value"/>.</summary>
    public Tensor FillInPlace(double value, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        CheckInPlaceAllowed("FillInPlace");
        if ((Autograd.IsGradEnabled && RequiresGrad) || ForwardAD.Involves(this)) return CopyFrom(FullLike(this, value), callerFile, callerLine);
        Backend.Fill(Strided, value);
        BumpVersion("FillInPlace", callerFile, callerLine);
        return this;
    }

    public Tensor ZeroInPlace([CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0) => FillInPlace(0, callerFile, callerLine);

    /// <summary>Copies <paramref name="source"/> (broadcast to this shape, converted to this dtype) into this tensor.</summary>
    public Tensor CopyFrom(Tensor source, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        CheckInPlaceAllowed("CopyFrom");
        var src = SourceFor(source, "CopyFrom");
        if ((Autograd.IsGradEnabled && (RequiresGrad || src.RequiresGrad)) || ForwardAD.Involves(this, src))
            return Rebase("CopyFrom", () => src + ZerosLike(this), callerFile, callerLine);
        Backend.Copy(src.Strided, Strided);
        BumpVersion("CopyFrom", callerFile, callerLine);
        return this;
    }

    /// <summary>Limits values to [min, max] in place.</summary>
    public Tensor ClampInPlace(double? min = null, double? max = null, [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        CheckInPlaceAllowed("ClampInPlace");
        double lo = min ?? double.NegativeInfinity, hi = max ?? double.PositiveInfinity;
        if ((Autograd.IsGradEnabled && RequiresGrad) || ForwardAD.Involves(this)) return Rebase("ClampInPlace", () => Clamp(min, max), callerFile, callerLine);
        Backend.Unary(UnaryOp.Clamp, Strided, Strided, lo, hi);
        BumpVersion("ClampInPlace", callerFile, callerLine);
        return this;
    }

    /// <summary>ReLU in place.</summary>
    public Tensor ReluInPlace([CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        CheckInPlaceAllowed("ReluInPlace");
        if ((Autograd.IsGradEnabled && RequiresGrad) || ForwardAD.Involves(this)) return Rebase("ReluInPlace", Relu, callerFile, callerLine);
        Backend.Unary(UnaryOp.Relu, Strided, Strided);
        BumpVersion("ReluInPlace", callerFile, callerLine);
        return this;
    }

    /// <summary>Adds a gradient into this gradient buffer (autograd's own accumulation; no graph, no checks).</summary>
    internal void AccumulateInPlace(Tensor other)
    {
        var src = BroadcastTo(other, "AccumulateGrad");
        Backend.Binary(BinaryOp.Add, Strided, src.Strided, Strided);
        BumpVersion("AccumulateGrad");
    }

    private Tensor InPlace(string op, Tensor other, BinaryOp kernel, Func<Tensor> outOfPlace, string callerFile, int callerLine)
    {
        CheckInPlaceAllowed(op);
        if ((Autograd.IsGradEnabled && (RequiresGrad || other.RequiresGrad)) || ForwardAD.Involves(this, other))
            return Rebase(op, outOfPlace, callerFile, callerLine);
        var src = SourceFor(other, op);
        Backend.Binary(kernel, Strided, src.Strided, Strided);
        BumpVersion(op, callerFile, callerLine);
        return this;
    }

    /// <summary>What an in-place op reads: <paramref name="source"/> in this tensor's dtype and device, broadcast to its shape.</summary>
    private Tensor SourceFor(Tensor source, string op)
    {
        var src = source.DType == DType ? source : source.To(DType);
        if (src.Device != Device) src = src.To(Device);
        return BroadcastTo(src, op);
    }

    private Tensor BroadcastTo(Tensor source, string op)
    {
        if (source.Sizes.AsSpan().SequenceEqual(Sizes)) return source;
        var shape = Shape.Broadcast(source.Shape, Shape, op);
        if (shape != Shape)
            throw new ShapeMismatchException(op, $"a tensor of shape {source.Shape} cannot be written into one of shape {Shape}");
        return source.ExpandTo(Sizes);
    }

    /// <summary>
    /// An in-place op while gradients are recorded (or tangents carried): computes the result out of place (recording
    /// its node and tangent), writes it into this storage, and makes that node this tensor's producer and that tangent
    /// its tangent. A view is written through its base instead (PyTorch's CopySlices, see <see cref="WriteThroughView"/>).
    /// </summary>
    private Tensor Rebase(string op, Func<Tensor> outOfPlace, string callerFile, int callerLine)
    {
        Tensor result;
        using (CallSite.Enter(callerFile, callerLine)) result = outOfPlace();
        if (result.DType != DType) result = result.To(DType);
        if (IsView)
        {
            WriteThroughView(result, op, callerFile, callerLine);
            ForwardAD.AfterWriteThroughView(this);
            return this;
        }
        Backend.Copy(result.Strided, Strided);
        BumpVersion(op, callerFile, callerLine);
        Storage.GraphWrites++;
        if (result.GradFn is { } node) node.Attach(this);
        ForwardAD.AfterInPlace(this, result);
        return this;
    }

    private void CheckInPlaceAllowed(string op)
    {
        if (!Autograd.IsGradEnabled) return;
        if (IsLeaf && _requiresGrad)
            throw new InvalidOperationException(
                $"{op}: a leaf tensor that requires grad (shape {Shape}) cannot be changed in place while gradients are recorded; " +
                "its gradient would refer to values that no longer exist. Update parameters inside 'using (Autograd.NoGrad())'.");
        if (ViewBase is { IsLeaf: true, _requiresGrad: true })
            throw new InvalidOperationException(
                $"{op}: this tensor is a view of a leaf that requires grad (shape {ViewBase.Shape}) and cannot be changed in place while " +
                "gradients are recorded. Update it inside 'using (Autograd.NoGrad())'.");
    }

    /// <summary>Records an in-place write: a new version, the op, and the line that called it (when known).</summary>
    internal void BumpVersion(string op, string? callerFile = null, int callerLine = 0)
    {
        var storage = Storage;
        storage.Version++;
        storage.LastWriter = callerFile is null || CallSite.IsLibraryFile(callerFile) ? op : InPlaceCall.Of(op, callerFile, callerLine);
    }
}
