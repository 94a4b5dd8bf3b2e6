namespace Backprop;

/// <summary>Moving tensors between devices and dtypes, and factories that create a tensor directly on a device.</summary>
public partial class Tensor
{
    /// <summary>
    /// The tensor converted to <paramref name="dtype"/> on <paramref name="device"/> (this tensor when it already is).
    /// Differentiable: the gradient comes back converted to this tensor's dtype and device.
    /// </summary>
    public Tensor To(Device device, DType dtype)
    {
        // Narrow before the move and widen after it, so the transfer carries the smaller elements.
        bool narrowing = dtype.ElementSize() < DType.ElementSize();
        return narrowing ? To(dtype).To(device) : To(device).To(dtype);
    }

    /// <summary>The tensor on <paramref name="other"/>'s device and in its dtype (PyTorch's <c>x.to(other)</c>).</summary>
    public Tensor To(Tensor other) => To(other.Device, other.DType);

    /// <summary>
    /// Rebinds this tensor to <paramref name="source"/>'s storage and layout, keeping its identity (PyTorch's
    /// <c>t.data = source</c>): every holder of this tensor (a module field, an optimizer's parameter list) sees the
    /// new data. No graph is recorded and no version is bumped; a graph that saved this tensor before must not be
    /// run backward afterwards, as in PyTorch.
    /// </summary>
    internal void ReplaceData(Tensor source)
    {
        if (!source.Sizes.AsSpan().SequenceEqual(Sizes))
            throw new ShapeMismatchException("ReplaceData", $"new data of shape {source.Shape} for a tensor of shape {Shape}");
        if (source.DType != DType && _rare?.Accumulator is not null) _rare.Accumulator = null; // it records the leaf's dtype
        Storage = source.Storage;
        StrideArray = source.StrideArray;
        Offset = source.Offset;
        _isContiguous = source._isContiguous;
        ViewBase = source.ViewBase;
    }

    /// <summary>
    /// Throws unless every one of <paramref name="others"/> (nulls skipped) is on <paramref name="input"/>'s device: a
    /// kernel receives the views of one backend only, and another device's storage must fail here with the op's name,
    /// not inside a kernel.
    /// </summary>
    internal static void CheckSameDevice(string op, Tensor input, params ReadOnlySpan<(string Name, Tensor? Tensor)> others)
    {
        foreach (var (name, other) in others)
            if (other is not null && other.Device != input.Device)
                throw new ArgumentException($"{op}: {name} is on {other.Device} but the input is on {input.Device}. Move it with .To(device).");
    }

    /// <summary>
    /// A storage on the default device that takes ownership of host values, without a copy while that device is the
    /// CPU: how decoders (safetensors, IDX, CSV, synthetic data) hand over the arrays they fill.
    /// </summary>
    internal static Storage AdoptHostArray<T>(T[] values) where T : unmanaged => Backends.Cpu.CpuBackend.Wrap(values);

    /// <summary>
    /// The array behind this tensor's storage when that storage is host memory of <typeparamref name="T"/> (a CPU fast
    /// path for readers such as safetensors writing and anomaly scans); false on any other device, whose data is
    /// read through its backend instead.
    /// </summary>
    internal bool TryGetHostArray<T>(out T[] array) where T : unmanaged
    {
        if (Storage is Backends.Cpu.CpuStorage<T> host)
        {
            array = host.Data;
            return true;
        }
        array = [];
        return false;
    }

    /// <summary>Whether the storage is on the CPU (printing shows the device otherwise, as PyTorch does).</summary>
    internal bool IsOnCpu => Device == Device.Cpu;

    /// <summary>The backend of <paramref name="device"/>, or of the default device (the CPU) when none is given.</summary>
    internal static IBackend BackendFor(Device? device) => BackendRegistry.For(device ?? Device.Cpu);

    /// <summary>
    /// A tensor holding a copy of <paramref name="data"/> with the given shape, created on <paramref name="device"/> (the
    /// default device when null) and converted to <paramref name="dtype"/> when given (PyTorch's
    /// <c>torch.tensor(data, dtype=, device=)</c>). Int values become Int64, as in <see cref="FromArray{T}(T[], int[])"/>.
    /// </summary>
    public static Tensor FromArray<T>(T[] data, int[] shape, DType? dtype = null, Device? device = null) where T : unmanaged
    {
        int[] dims = shape.Length == 0 ? [data.Length] : (int[])shape.Clone();
        int count = Shape.CountElements(dims);
        if (count != data.Length)
            throw new ShapeMismatchException("FromArray", $"{data.Length} values do not fill shape {Shape.Format(dims)} ({count} elements)");
        var backend = BackendFor(device);
        Storage storage;
        if (typeof(T) == typeof(int) && dtype != DType.Int32)
        {
            var ints = System.Runtime.InteropServices.MemoryMarshal.Cast<T, int>(data.AsSpan());
            var longs = new long[ints.Length];
            for (int i = 0; i < longs.Length; i++) longs[i] = ints[i];
            storage = backend.Upload<long>(longs);
        }
        else
        {
            _ = DTypeExtensions.Of<T>();
            storage = backend.Upload<T>(data);
        }
        var t = new Tensor(storage, dims);
        return dtype is { } wanted ? t.To(wanted) : t;
    }

    /// <summary>A tensor from a (possibly multi-dimensional) array, created on <paramref name="device"/>.</summary>
    public static Tensor FromArray(Array data, Device device, DType? dtype = null) => FromArray(data, dtype, (Device?)device);

    /// <summary>Zeros of <paramref name="t"/>'s shape, in its dtype and on its device unless others are given.</summary>
    public static Tensor ZerosLike(Tensor t, DType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Zeros(t.Shape, dtype ?? t.DType, device ?? t.Device, requiresGrad);

    /// <summary>Ones of <paramref name="t"/>'s shape, in its dtype and on its device unless others are given.</summary>
    public static Tensor OnesLike(Tensor t, DType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Ones(t.Shape, dtype ?? t.DType, device ?? t.Device, requiresGrad);

    /// <summary><paramref name="value"/> in <paramref name="t"/>'s shape, in its dtype and on its device unless others are given.</summary>
    public static Tensor FullLike(Tensor t, double value, DType? dtype = null, Device? device = null, bool requiresGrad = false) =>
        Full(t.Shape, value, dtype ?? t.DType, device ?? t.Device, requiresGrad);

    /// <summary>Uniform samples in [0, 1) of <paramref name="t"/>'s shape, in its dtype and on its device unless others are given.</summary>
    public static Tensor RandLike(Tensor t, DType? dtype = null, Device? device = null, Generator? generator = null) =>
        Rand(t.Shape, dtype ?? t.DType, generator, device ?? t.Device);

    /// <summary>Standard normal samples of <paramref name="t"/>'s shape, in its dtype and on its device unless others are given.</summary>
    public static Tensor RandnLike(Tensor t, DType? dtype = null, Device? device = null, Generator? generator = null) =>
        Randn(t.Shape, dtype ?? t.DType, generator, device ?? t.Device);

    /// <summary>The <paramref name="n"/>×<paramref name="m"/> matrix with ones on the diagonal.</summary>
    public static Tensor Eye(int n, int m, DType dtype = DType.Float32, Device? device = null)
    {
        if (n < 0 || m < 0) throw new ArgumentException($"Eye: sizes must be non-negative; got {n}×{m}.");
        var values = new double[n * m];
        for (int i = 0; i < Math.Min(n, m); i++) values[i * m + i] = 1;
        return FromHost(values, [n, m], dtype, device);
    }
}
