using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Backprop.Backends.Cpu;

/// <summary>The CPU backend: managed arrays, TensorPrimitives for vector math, a blocked GEMM.</summary>
public sealed partial class CpuBackend : IBackend
{
    public static CpuBackend Instance { get; } = new();

    private CpuBackend() { }

    public Device Device => Device.Cpu;

    public Storage Allocate(DType dtype, int length, bool zeroed) => dtype switch
    {
        DType.Float32 => NewStorage<float>(length, zeroed),
        DType.Float64 => NewStorage<double>(length, zeroed),
        DType.Int64 => NewStorage<long>(length, zeroed),
        DType.Int32 => NewStorage<int>(length, zeroed),
        DType.Bool => NewStorage<bool>(length, zeroed),
        DType.Float16 => NewStorage<Half>(length, zeroed),
        DType.BFloat16 => NewStorage<BFloat16>(length, zeroed),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static CpuStorage<T> NewStorage<T>(int length, bool zeroed) where T : unmanaged =>
        CpuMemoryPool.ShouldPool<T>(length) ? CpuMemoryPool.Rent<T>(length, zeroed)
        : new CpuStorage<T>(zeroed ? new T[length] : GC.AllocateUninitializedArray<T>(length));

    public Storage Upload<T>(ReadOnlySpan<T> data) where T : unmanaged => new CpuStorage<T>(data.ToArray());

    /// <summary>Wraps an array as storage without copying; the caller gives up the array.</summary>
    public static Storage Wrap<T>(T[] data) where T : unmanaged => new CpuStorage<T>(data);

    public void Download<T>(StridedView source, Span<T> destination) where T : unmanaged
    {
        int n = source.NumElements;
        if (destination.Length < n) throw new ArgumentException($"Download needs {n} elements of room; got {destination.Length}.");
        if (source.DType == DTypeExtensions.Of<T>() && source.IsContiguous)
        {
            Data<T>(source.Storage).AsSpan(source.Offset, n).CopyTo(destination);
            return;
        }
        var buffer = new T[n];
        var target = new CpuStorage<T>(buffer);
        Copy(source, StridedView.Contiguous(target, source.Shape));
        buffer.CopyTo(destination);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T[] Data<T>(Storage storage) where T : unmanaged =>
        storage is CpuStorage<T> cpu ? cpu.Data : throw Unsupported($"A {typeof(T).Name} kernel", storage.DType);

    /// <summary>The elements of a contiguous view.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Span<T> Span<T>(in StridedView view) where T : unmanaged =>
        Data<T>(view.Storage).AsSpan(view.Offset, view.NumElements);

    public void Copy(StridedView source, StridedView destination)
    {
        CheckSameShape("Copy", source, destination);
        switch (source.DType)
        {
            case DType.Float32: CopyFrom<float>(source, destination); break;
            case DType.Float64: CopyFrom<double>(source, destination); break;
            case DType.Int64: CopyFrom<long>(source, destination); break;
            case DType.Int32: CopyFrom<int>(source, destination); break;
            case DType.Bool: CopyFromBool(source, destination); break;
            case DType.Float16: CopyFrom<Half>(source, destination); break;
            case DType.BFloat16: CopyFromBFloat16(source, destination); break;
            default: throw Unsupported("Copy", source.DType);
        }
    }

    private static void CopyFrom<TFrom>(in StridedView source, in StridedView destination) where TFrom : unmanaged, INumberBase<TFrom>
    {
        switch (destination.DType)
        {
            case DType.Float32: CopyTyped<TFrom, float>(source, destination); break;
            case DType.Float64: CopyTyped<TFrom, double>(source, destination); break;
            case DType.Int64: CopyTyped<TFrom, long>(source, destination); break;
            case DType.Int32: CopyTyped<TFrom, int>(source, destination); break;
            case DType.Bool: CopyConverted<TFrom, bool, ToBool<TFrom>>(source, destination); break;
            case DType.Float16: CopyTyped<TFrom, Half>(source, destination); break;
            case DType.BFloat16: CopyConverted<TFrom, BFloat16, ToBFloat16<TFrom>>(source, destination); break;
            default: throw Unsupported("Copy", destination.DType);
        }
    }

    private static void CopyFromBool(in StridedView source, in StridedView destination)
    {
        switch (destination.DType)
        {
            case DType.Float32: CopyConverted<bool, float, FromBool<float>>(source, destination); break;
            case DType.Float64: CopyConverted<bool, double, FromBool<double>>(source, destination); break;
            case DType.Int64: CopyConverted<bool, long, FromBool<long>>(source, destination); break;
            case DType.Int32: CopyConverted<bool, int, FromBool<int>>(source, destination); break;
            case DType.Bool: CopyConverted<bool, bool, SameBool>(source, destination); break;
            case DType.Float16: CopyConverted<bool, Half, FromBool<Half>>(source, destination); break;
            case DType.BFloat16: CopyConverted<bool, BFloat16, BoolToBFloat16>(source, destination); break;
            default: throw Unsupported("Copy", destination.DType);
        }
    }

    private static void CopyFromBFloat16(in StridedView source, in StridedView destination)
    {
        switch (destination.DType)
        {
            case DType.Float32: CopyConverted<BFloat16, float, FromBFloat16<float>>(source, destination); break;
            case DType.Float64: CopyConverted<BFloat16, double, FromBFloat16<double>>(source, destination); break;
            case DType.Int64: CopyConverted<BFloat16, long, FromBFloat16<long>>(source, destination); break;
            case DType.Int32: CopyConverted<BFloat16, int, FromBFloat16<int>>(source, destination); break;
            case DType.Float16: CopyConverted<BFloat16, Half, FromBFloat16<Half>>(source, destination); break;
            case DType.Bool: CopyConverted<BFloat16, bool, BFloat16ToBool>(source, destination); break;
            case DType.BFloat16: CopyConverted<BFloat16, BFloat16, SameBFloat16>(source, destination); break;
            default: throw Unsupported("Copy", destination.DType);
        }
    }

    /// <summary>The error of a kernel this backend has no implementation of for <paramref name="dtype"/>.</summary>
    internal static NotSupportedException Unsupported(string kernel, DType dtype) =>
        new($"{kernel} is not supported for dtype {dtype.DisplayName()} on the CPU backend.");

    private interface IConversion<TFrom, TTo>
    {
        static abstract TTo Convert(TFrom value);
    }

    // Any nonzero value is true, NaN included (NaN != 0), as in PyTorch's .bool().
    private readonly struct ToBool<TFrom> : IConversion<TFrom, bool> where TFrom : INumberBase<TFrom>
    {
        public static bool Convert(TFrom value) => value != TFrom.Zero;
    }

    private readonly struct FromBool<TTo> : IConversion<bool, TTo> where TTo : INumberBase<TTo>
    {
        public static TTo Convert(bool value) => value ? TTo.One : TTo.Zero;
    }

    private readonly struct SameBool : IConversion<bool, bool>
    {
        public static bool Convert(bool value) => value;
    }

    // Through double, which holds every source value exactly but int64's largest; BFloat16.FromDouble rounds once.
    private readonly struct ToBFloat16<TFrom> : IConversion<TFrom, BFloat16> where TFrom : INumberBase<TFrom>
    {
        public static BFloat16 Convert(TFrom value) => BFloat16.FromDouble(double.CreateTruncating(value));
    }

    private readonly struct FromBFloat16<TTo> : IConversion<BFloat16, TTo> where TTo : INumberBase<TTo>
    {
        public static TTo Convert(BFloat16 value) => TTo.CreateTruncating(value.ToSingle());
    }

    private readonly struct BFloat16ToBool : IConversion<BFloat16, bool>
    {
        public static bool Convert(BFloat16 value) => value.ToSingle() != 0;
    }

    private readonly struct BoolToBFloat16 : IConversion<bool, BFloat16>
    {
        public static BFloat16 Convert(bool value) => BFloat16.FromSingle(value ? 1f : 0f);
    }

    private readonly struct SameBFloat16 : IConversion<BFloat16, BFloat16>
    {
        public static BFloat16 Convert(BFloat16 value) => value;
    }

    private static void CopyConverted<TFrom, TTo, TConversion>(in StridedView source, in StridedView destination)
        where TFrom : unmanaged where TTo : unmanaged where TConversion : struct, IConversion<TFrom, TTo>
    {
        if (source.IsContiguous && destination.IsContiguous)
        {
            var from = Span<TFrom>(source);
            var to = Span<TTo>(destination);
            for (int i = 0; i < from.Length; i++) to[i] = TConversion.Convert(from[i]);
            return;
        }
        var kernel = new ConvertRows<TFrom, TTo, TConversion>(Data<TFrom>(source.Storage), Data<TTo>(destination.Storage));
        StridedLoop.Run(ref kernel, destination.Shape, destination, source);
    }

    private readonly struct ConvertRows<TFrom, TTo, TConversion>(TFrom[] from, TTo[] to) : IRowKernel
        where TFrom : unmanaged where TTo : unmanaged where TConversion : struct, IConversion<TFrom, TTo>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            for (int i = 0; i < n; i++) to[o0 + i * s0] = TConversion.Convert(from[o1 + i * s1]);
        }
    }

    private static void CopyTyped<TFrom, TTo>(in StridedView source, in StridedView destination)
        where TFrom : unmanaged, INumberBase<TFrom> where TTo : unmanaged, INumberBase<TTo>
    {
        if (source.IsContiguous && destination.IsContiguous && (typeof(TFrom) != typeof(TTo) || destination.NumElements < ParallelStreamMin))
        {
            var from = Span<TFrom>(source);
            var to = Span<TTo>(destination);
            if (typeof(TFrom) == typeof(TTo)) MemoryMarshal.Cast<TFrom, TTo>(from).CopyTo(to);
            else TensorPrimitives.ConvertTruncating<TFrom, TTo>(from, to);
            return;
        }
        if (typeof(TFrom) == typeof(TTo) && destination.IsContiguous && IsRowBroadcast(source) && destination.NumElements < ParallelStreamMin)
        {
            // A bias broadcast over the rows of a matrix: copy the row once per output row.
            var row = MemoryMarshal.Cast<TFrom, TTo>(Data<TFrom>(source.Storage).AsSpan(source.Offset, source.Shape[1]));
            var target = Span<TTo>(destination);
            for (int r = 0; r < source.Shape[0]; r++) row.CopyTo(target.Slice(r * row.Length, row.Length));
            return;
        }
        // Large copies (a contiguous tensor, a bias over many rows, a permuted gradient) split their rows across the cores.
        StridedLoop.RunElementwise(new CopyRows<TFrom, TTo>(Data<TFrom>(source.Storage), Data<TTo>(destination.Storage)),
            destination.Shape, destination, source, ParallelStreamMin);
    }

    private static bool IsRowBroadcast(in StridedView v) => v.Rank == 2 && v.Strides[0] == 0 && v.Strides[1] == 1;

    private readonly struct CopyRows<TFrom, TTo>(TFrom[] from, TTo[] to) : IRowKernel
        where TFrom : unmanaged, INumberBase<TFrom> where TTo : unmanaged, INumberBase<TTo>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            if (s0 == 1 && s1 == 1 && typeof(TFrom) == typeof(TTo))
            {
                MemoryMarshal.Cast<TFrom, TTo>(from.AsSpan(o1, n)).CopyTo(to.AsSpan(o0, n));
                return;
            }
            for (int i = 0; i < n; i++) to[o0 + i * s0] = TTo.CreateTruncating(from[o1 + i * s1]);
        }
    }

    public void Fill(StridedView destination, double value)
    {
        switch (destination.DType)
        {
            case DType.Float32: FillTyped(destination, (float)value); break;
            case DType.Float64: FillTyped(destination, value); break;
            case DType.Int64: FillTyped(destination, (long)value); break;
            case DType.Int32: FillTyped(destination, (int)value); break;
            case DType.Bool: FillTyped(destination, value != 0); break;
            case DType.Float16: FillTyped(destination, (Half)value); break;
            case DType.BFloat16: FillTyped(destination, BFloat16.FromDouble(value)); break;
            default: throw Unsupported("Fill", destination.DType);
        }
    }

    private static void FillTyped<T>(in StridedView destination, T value) where T : unmanaged
    {
        if (destination.IsContiguous)
        {
            Span<T>(destination).Fill(value);
            return;
        }
        var kernel = new FillRows<T>(Data<T>(destination.Storage), value);
        StridedLoop.Run(ref kernel, destination.Shape, destination, destination);
    }

    private readonly struct FillRows<T>(T[] data, T value) : IRowKernel where T : unmanaged
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            if (s0 == 1) data.AsSpan(o0, n).Fill(value);
            else for (int i = 0; i < n; i++) data[o0 + i * s0] = value;
        }
    }

    // Generic in the kernel's name so an enum is only formatted (and boxed) when a check fails, not on every call.
    internal static void CheckSameShape<TName>(TName kernel, in StridedView a, in StridedView b) where TName : notnull
    {
        if (!a.Shape.AsSpan().SequenceEqual(b.Shape))
            throw new ShapeMismatchException(kernel.ToString()!, $"kernel operands have shapes {Shape.Format(a.Shape)} and {Shape.Format(b.Shape)}");
    }

    internal static void CheckSameDType<TName>(TName kernel, in StridedView a, in StridedView b) where TName : notnull
    {
        if (a.DType != b.DType)
            throw new ArgumentException($"{kernel}: kernel operands have dtypes {a.DType.DisplayName()} and {b.DType.DisplayName()}.");
    }
}
