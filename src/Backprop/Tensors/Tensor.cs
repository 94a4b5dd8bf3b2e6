using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// An n-dimensional array on a device: a strided, row-major view of a <see cref="Storage"/>, and a node of the
/// autograd graph. Tensors are ordinary managed objects: nothing needs disposing.
/// </summary>
/// <remarks>Only the library derives from it (<c>Nn.Parameter</c>); its constructors are internal.</remarks>
public partial class Tensor
{
    // Storage, layout and view base are rebound (never the sizes) only by ReplaceData, which moves a module's
    // parameters and buffers to another device or dtype in place, as PyTorch's `param.data = ...`.
    internal Storage Storage;
    internal readonly int[] Sizes;
    internal int[] StrideArray;
    internal int Offset;
    private bool _isContiguous;
    private readonly int _numElements;

    /// <summary>The tensor that owns the storage this view looks into (null when this tensor is not a view).</summary>
    internal Tensor? ViewBase;

    /// <summary>The storage's version when this view was made: a base written since (with a tangent) gives the view one.</summary>
    internal int ViewCreatedVersion;

    private bool _requiresGrad;
    private Node? _gradFn;

    /// <summary>
    /// Set on a gradient that a backward formula allocated for one input and nobody else holds, so the engine may hand
    /// it to a leaf as its Grad instead of copying it. The engine clears it whenever the tensor is shared or shown to
    /// a hook.
    /// </summary>
    internal bool IsExclusiveGradient;

    /// <summary>State few tensors have (a gradient, a leaf accumulator, a name), kept apart so every tensor stays small.</summary>
    private sealed class RareState
    {
        public AccumulateGrad? Accumulator;
        public Tensor? Grad;
        public string? Name;
    }

    private RareState? _rare;

    internal Tensor(Storage storage, int[] sizes, int[] strides, int offset, Tensor? viewBase = null)
    {
        Storage = storage;
        Sizes = sizes;
        StrideArray = strides;
        Offset = offset;
        _isContiguous = StridedView.ComputeIsContiguous(sizes, strides);
        _numElements = Shape.CountElements(sizes);
        ViewBase = viewBase is null ? null : viewBase.ViewBase ?? viewBase;
        if (ViewBase is not null)
        {
            _graphWritesSeen = storage.GraphWrites;
            ViewCreatedVersion = storage.Version;
        }
    }

    /// <summary>A contiguous tensor over a whole storage.</summary>
    internal Tensor(Storage storage, int[] sizes) : this(storage, sizes, Shape.ContiguousStrides(sizes), 0) { }

    /// <summary>A new contiguous tensor whose elements are not initialised (every kernel that uses it writes all of them).</summary>
    internal static Tensor Empty(int[] sizes, DType dtype, Device? device) =>
        new(BackendFor(device).Allocate(dtype, Shape.CountElements(sizes), zeroed: false), sizes);

    /// <summary>An uninitialised contiguous tensor of t's shape and dtype (sharing t's stride array when t is contiguous).</summary>
    internal static Tensor EmptyLike(Tensor t) => EmptyLike(t, t.DType);

    internal static Tensor EmptyLike(Tensor t, DType dtype)
    {
        var storage = t.Backend.Allocate(dtype, Shape.CountElements(t.Sizes), zeroed: false);
        return t._isContiguous ? new Tensor(storage, t.Sizes, t.StrideArray, 0) : new Tensor(storage, t.Sizes);
    }

    /// <summary>
    /// An uninitialised tensor of t's shape and dtype laid out as t is when t is a permutation of a dense tensor (a
    /// transposed or head-split view), else contiguous. A gradient made so flows back through the permutes and views
    /// that made t without a copy, as PyTorch's empty_like keeps a dense input's strides.
    /// </summary>
    internal static Tensor EmptyInLayoutOf(Tensor t)
    {
        if (t._isContiguous || t.Rank < 2) return EmptyLike(t);
        var order = Enumerable.Range(0, t.Rank).ToArray();
        var strides = t.StrideArray;
        // Dims from outermost to innermost in memory; size-1 dims keep their place (their stride says nothing).
        Array.Sort(order, (a, b) => strides[b] != strides[a] ? strides[b].CompareTo(strides[a]) : a.CompareTo(b));
        int expected = 1;
        var dense = new int[t.Rank];
        for (int i = t.Rank - 1; i >= 0; i--)
        {
            int d = order[i];
            if (t.Sizes[d] != 1 && strides[d] != expected) return EmptyLike(t);
            dense[d] = expected;
            expected *= t.Sizes[d];
        }
        return new Tensor(t.Backend.Allocate(t.DType, t.NumElements, zeroed: false), t.Sizes, dense, 0);
    }

    internal static Tensor Empty(int[] sizes, DType dtype, IBackend backend) =>
        new(backend.Allocate(dtype, Shape.CountElements(sizes), zeroed: false), sizes);

    public Shape Shape => Shape.Wrap(Sizes);

    public int Rank => Sizes.Length;

    public int NumElements => _numElements;

    /// <summary>Size of one dimension; negative dims count from the end.</summary>
    public int Size(int dim) => Sizes[Shape.NormalizeDim(dim, Sizes.Length)];

    /// <summary>Distance in elements between neighbours along each dimension.</summary>
    public IReadOnlyList<int> Strides => StrideArray;

    public int StorageOffset => Offset;

    public DType DType => Storage.DType;

    public Device Device => Storage.Device;

    internal IBackend Backend
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Storage.Backend;
    }

    public bool IsContiguous => _isContiguous;

    /// <summary>Whether this tensor shares the storage of another (it was made by a view op).</summary>
    public bool IsView => ViewBase is not null;

    /// <summary>How many times the storage has been changed in place (PyTorch's <c>_version</c>).</summary>
    public int Version => Storage.Version;

    /// <summary>An optional label, shown by graph exports and <c>backprop explain</c>.</summary>
    public string? Name
    {
        get => _rare?.Name;
        set => (_rare ??= new()).Name = value;
    }

    internal StridedView Strided
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => new(Storage, Sizes, StrideArray, Offset, _isContiguous, _numElements);
    }

    // ---- autograd state ----

    /// <summary>
    /// Whether gradients flow to this tensor. Set it on leaves (parameters, inputs); results of ops on tensors that
    /// require grad require grad themselves.
    /// </summary>
    public bool RequiresGrad
    {
        get => _requiresGrad || History is not null;
        set
        {
            if (_gradFn is not null)
            {
                if (value) return;
                throw new InvalidOperationException(
                    $"RequiresGrad can only be changed on leaf tensors; this one was computed by {_gradFn.Name}. Use Detach() to get a tensor without history.");
            }
            if (value && !DType.IsFloatingPoint())
                throw new InvalidOperationException($"Only floating-point tensors can require gradients; this one is {DType.DisplayName()}.");
            _requiresGrad = value;
        }
    }

    /// <summary>Sets <see cref="RequiresGrad"/> and returns this tensor, for use in expressions.</summary>
    public Tensor SetRequiresGrad(bool value = true)
    {
        RequiresGrad = value;
        return this;
    }

    /// <summary>The node that computed this tensor, or null for a leaf.</summary>
    public Node? GradFn => History;

    /// <summary>A leaf was not computed by a recorded op: a parameter, an input, or any tensor that does not require grad.</summary>
    public bool IsLeaf => History is null;

    /// <summary>
    /// ∂L/∂(this tensor), accumulated by every <see cref="Backward(bool, bool, string, int)"/> until cleared. Filled for leaves that require
    /// grad, and for other tensors after <see cref="RetainGrad"/>.
    /// </summary>
    public Tensor? Grad
    {
        get => _rare?.Grad;
        set
        {
            if (value is not null)
            {
                if (value.Shape != Shape)
                    throw new ShapeMismatchException("Grad", $"assigned gradient has shape {value.Shape} but the tensor has shape {Shape}");
                if (value.DType != DType)
                    throw new ArgumentException($"Grad: assigned gradient is {value.DType.DisplayName()} but the tensor is {DType.DisplayName()}.");
            }
            if (value is not null || _rare is not null) (_rare ??= new()).Grad = value;
        }
    }

    /// <summary>The node gradients for this tensor flow into: its producer, or the accumulator of a leaf that requires grad.</summary>
    internal Node? GradEdge => History ?? (_requiresGrad ? (_rare ??= new()).Accumulator ??= new AccumulateGrad(this) : null);

    internal void SetGradFn(Node node) => _gradFn = node;

    // ---- conversions ----

    /// <summary>A new tensor with the same values in fresh contiguous storage, on the graph (gradients flow back).</summary>
    public Tensor Clone() => Ops.CloneOp.Apply(this);

    /// <summary>
    /// The same data without history: shares storage (and its version counter), never requires grad. Changing it in
    /// place changes this tensor too.
    /// </summary>
    public Tensor Detach() => new(Storage, Sizes, StrideArray, Offset);

    /// <summary>This tensor if it is contiguous, else a contiguous copy (on the graph).</summary>
    public Tensor Contiguous() => _isContiguous ? this : Clone();

    /// <summary>The values converted to <paramref name="dtype"/> (to Bool: nonzero is true); gradients flow back between float dtypes.</summary>
    public Tensor To(DType dtype) => dtype == DType ? this : Ops.ConvertOp.Apply(this, dtype);

    /// <summary>The tensor on <paramref name="device"/> (this tensor when already there).</summary>
    public Tensor To(Device device) => device == Device ? this : Ops.ToDeviceOp.Apply(this, device);

    public Tensor Float() => To(DType.Float32);

    public Tensor Double() => To(DType.Float64);

    public Tensor Long() => To(DType.Int64);

    /// <summary>Counts NaN and infinite elements (used by anomaly checks and diagnostics).</summary>
    internal (long NaN, long Infinite) CountNonFinite()
    {
        if (!DType.IsFloatingPoint()) return (0, 0);
        var values = ToArray<double>();
        long nan = 0, inf = 0;
        foreach (var v in values)
        {
            if (double.IsNaN(v)) nan++;
            else if (double.IsInfinity(v)) inf++;
        }
        return (nan, inf);
    }
}
