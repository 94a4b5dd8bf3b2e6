using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Backprop.IO;

/// <summary>
/// A safetensors element type: its name in the header, its size in bytes, and the dtype it loads as. Backprop's own
/// dtypes load as themselves; narrower types written by other libraries are widened to one of them.
/// </summary>
internal sealed class ElementFormat
{
    private delegate Storage Widening(byte[] raw, int count);

    private readonly Widening? _widen;

    private ElementFormat(string name, int size, DType target, Widening? widen)
    {
        Name = name;
        Size = size;
        Target = target;
        _widen = widen;
    }

    public string Name { get; }

    public int Size { get; }

    public DType Target { get; }

    /// <summary>Whether the file's bytes are the target dtype's bytes (little-endian), so they can be read in place.</summary>
    public bool IsNative => _widen is null;

    private static readonly ElementFormat[] All =
    [
        new("F32", 4, DType.Float32, null),
        new("F64", 8, DType.Float64, null),
        new("I64", 8, DType.Int64, null),
        new("F16", 2, DType.Float16, null),
        new("BF16", 2, DType.BFloat16, null),
        // Any nonzero byte is true; reading through bool keeps every element a canonical 0 or 1.
        new("BOOL", 1, DType.Bool, (raw, n) => Bools(n, i => raw[i] != 0)),
        new("U8", 1, DType.Int64, (raw, n) => Longs(n, i => raw[i])),
        new("I8", 1, DType.Int64, (raw, n) => Longs(n, i => (sbyte)raw[i])),
        new("I16", 2, DType.Int64, (raw, n) => Longs(n, i => BinaryPrimitives.ReadInt16LittleEndian(raw.AsSpan(2 * i)))),
        new("U16", 2, DType.Int64, (raw, n) => Longs(n, i => BinaryPrimitives.ReadUInt16LittleEndian(raw.AsSpan(2 * i)))),
        new("I32", 4, DType.Int32, null),
        new("U32", 4, DType.Int64, (raw, n) => Longs(n, i => BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(4 * i)))),
    ];

    public static string Names => string.Join(", ", All.Select(f => f.Name));

    public static ElementFormat? Parse(string name) => Array.Find(All, f => f.Name == name);

    public static string NameOf(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int64 => "I64",
        DType.Int32 => "I32",
        DType.Bool => "BOOL",
        DType.Float16 => "F16",
        DType.BFloat16 => "BF16",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "No safetensors name for this dtype."),
    };

    public Storage Widen(byte[] raw, int count) =>
        (_widen ?? throw new InvalidOperationException($"{Name} is read in place, not widened."))(raw, count);

    private delegate T Element<out T>(int index);

    private static Storage Bools(int count, Element<bool> element)
    {
        var values = new bool[count];
        for (int i = 0; i < count; i++) values[i] = element(i);
        return Tensor.AdoptHostArray(values);
    }

    private static Storage Longs(int count, Element<long> element)
    {
        var values = new long[count];
        for (int i = 0; i < count; i++) values[i] = element(i);
        return Tensor.AdoptHostArray(values);
    }

    /// <summary>Reverses the bytes of each element: little-endian file order to a big-endian machine's order and back.</summary>
    public static void SwapBytes(Span<byte> bytes, int elementSize)
    {
        switch (elementSize)
        {
            case 2:
                var shorts = MemoryMarshal.Cast<byte, ushort>(bytes);
                BinaryPrimitives.ReverseEndianness(shorts, shorts);
                break;
            case 4:
                var ints = MemoryMarshal.Cast<byte, uint>(bytes);
                BinaryPrimitives.ReverseEndianness(ints, ints);
                break;
            case 8:
                var longs = MemoryMarshal.Cast<byte, ulong>(bytes);
                BinaryPrimitives.ReverseEndianness(longs, longs);
                break;
        }
    }
}
