namespace Backprop.Backends.Cpu;

/// <summary>Host memory: a managed array of <typeparamref name="T"/>.</summary>
public sealed class CpuStorage<T> : Storage where T : unmanaged
{
    public CpuStorage(T[] data) : base(DTypeExtensions.Of<T>(), data.Length) => Data = data;

    public T[] Data { get; }

    public override IBackend Backend => CpuBackend.Instance;
}
