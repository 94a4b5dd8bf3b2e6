namespace Backprop.Backends.Cpu;

/// <summary>The managed array behind a CPU storage, whatever its element type: for kernels that only move elements.</summary>
internal interface ICpuArrayStorage
{
    Array Array { get; }
}

/// <summary>Host memory: a managed array of <typeparamref name="T"/>.</summary>
public sealed class CpuStorage<T> : Storage, ICpuArrayStorage where T : unmanaged
{
    public CpuStorage(T[] data) : base(DTypeExtensions.Of<T>(), data.Length) => Data = data;

    public T[] Data { get; }

    Array ICpuArrayStorage.Array => Data;

    public override IBackend Backend => CpuBackend.Instance;
}
