namespace Backprop;

/// <summary>
/// The narrow kernel interface a device implements. Kernels read and write strided views of storages;
/// they know nothing of autograd, and the ops above them know nothing of the device.
/// Outputs are written in full; an output may be the same view as an input (in place) but never a
/// partial overlap of one.
/// </summary>
/// <remarks>
/// The interface is split into partial files by concern (elementwise, reductions, linear algebra, indexing,
/// convolution) so that a family of kernels is added in one place.
/// </remarks>
public partial interface IBackend
{
    Device Device { get; }

    /// <summary>A new storage of <paramref name="length"/> elements, zero-filled when <paramref name="zeroed"/>.</summary>
    Storage Allocate(DType dtype, int length, bool zeroed);

    /// <summary>A storage holding a copy of host data.</summary>
    Storage Upload<T>(ReadOnlySpan<T> data) where T : unmanaged;

    /// <summary>Copies a view's elements, in row-major order, into host memory, converting to <typeparamref name="T"/>.</summary>
    void Download<T>(StridedView source, Span<T> destination) where T : unmanaged;

    /// <summary>Copies element-wise between views of equal shape, converting dtype when they differ.</summary>
    void Copy(StridedView source, StridedView destination);

    void Fill(StridedView destination, double value);
}

/// <summary>
/// Finds the backend for a device. A backend in another assembly (a GPU one, or a test double) registers itself here
/// when loaded; every tensor allocation goes through <see cref="For"/> or a tensor's own backend, never to a backend
/// class by name (docs/architecture.md, Note [Adding a backend]).
/// </summary>
public static class BackendRegistry
{
    private static readonly Dictionary<DeviceType, Func<int, IBackend>> Factories = new()
    {
        [DeviceType.Cpu] = _ => Backprop.Backends.Cpu.CpuBackend.Instance,
    };

    private static volatile string s_privateUse1Name = "privateuseone";

    /// <summary>The name <see cref="DeviceType.PrivateUse1"/> devices print and parse as ("privateuseone" until a backend renames it).</summary>
    public static string PrivateUse1Name => s_privateUse1Name;

    public static void Register(DeviceType type, Func<int, IBackend> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (type == DeviceType.Cpu) throw new ArgumentException("BackendRegistry.Register: the CPU backend is built in and cannot be replaced.");
        lock (Factories) Factories[type] = factory;
    }

    /// <summary>
    /// Registers the backend of <see cref="DeviceType.PrivateUse1"/> devices under <paramref name="name"/> (lower case,
    /// not "cpu" or "cuda"), as PyTorch's <c>rename_privateuse1_backend</c>: <c>Device.Parse(name)</c> then finds it.
    /// </summary>
    public static void RegisterPrivateUse1(string name, Func<int, IBackend> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name != name.ToLowerInvariant() || name.Contains(':') || name is "cpu" or "cuda")
            throw new ArgumentException($"RegisterPrivateUse1: '{name}' is not a usable device name (lower case, no ':', not cpu or cuda).");
        lock (Factories)
        {
            Factories[DeviceType.PrivateUse1] = factory ?? throw new ArgumentNullException(nameof(factory));
            s_privateUse1Name = name;
        }
    }

    public static bool IsAvailable(DeviceType type)
    {
        lock (Factories) return Factories.ContainsKey(type);
    }

    public static IBackend For(Device device)
    {
        if (device.Type == DeviceType.Cpu) return Backprop.Backends.Cpu.CpuBackend.Instance;
        lock (Factories)
        {
            if (Factories.TryGetValue(device.Type, out var factory)) return factory(device.Index);
        }
        throw new NotSupportedException($"No backend is registered for device {device}. Reference the assembly that provides it.");
    }
}
