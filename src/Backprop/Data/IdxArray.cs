using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Backprop.Data;

/// <summary>The contents of an IDX file: element type, dimensions, and the elements in the file's (row-major) order.</summary>
public sealed class IdxArray
{
    private readonly int[] _dimensions;
    private readonly byte[] _data;

    internal IdxArray(IdxElementType elementType, int[] dimensions, byte[] data)
    {
        ElementType = elementType;
        _dimensions = dimensions;
        _data = data;
    }

    public IdxElementType ElementType { get; }

    /// <summary>The sizes the header declares, outermost first (e.g. images, rows, columns).</summary>
    public IReadOnlyList<int> Dimensions => _dimensions;

    public Shape Shape => new(_dimensions);

    /// <summary>Number of elements.</summary>
    public int Count => _data.Length / ElementSize(ElementType);

    /// <summary>The payload as stored: multi-byte elements are big-endian.</summary>
    public ReadOnlySpan<byte> RawData => _data;

    /// <summary>Bytes per element of <paramref name="type"/>.</summary>
    public static int ElementSize(IdxElementType type) => type switch
    {
        IdxElementType.UnsignedByte or IdxElementType.SignedByte => 1,
        IdxElementType.Int16 => 2,
        IdxElementType.Int32 or IdxElementType.Float32 => 4,
        IdxElementType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "Not an IDX element type."),
    };

    /// <summary>
    /// The elements as a tensor of the file's shape. By default integer types become Int64 and float types keep their
    /// precision; with <paramref name="dtype"/> they are converted directly (floats to Int64 truncate).
    /// </summary>
    public Tensor ToTensor(DType? dtype = null)
    {
        var target = dtype ?? (ElementType switch
        {
            IdxElementType.Float32 => DType.Float32,
            IdxElementType.Float64 => DType.Float64,
            _ => DType.Int64,
        });
        Storage storage = target switch
        {
            DType.Float32 => Tensor.AdoptHostArray(Decode<float>()),
            DType.Float64 => Tensor.AdoptHostArray(Decode<double>()),
            _ => Tensor.AdoptHostArray(Decode<long>()),
        };
        return new Tensor(storage, (int[])_dimensions.Clone());
    }

    /// <summary>The elements converted to <typeparamref name="T"/>.</summary>
    internal T[] Decode<T>() where T : unmanaged, INumberBase<T>
    {
        var result = new T[Count];
        var data = _data.AsSpan();
        switch (ElementType)
        {
            case IdxElementType.UnsignedByte:
                TensorPrimitives.ConvertTruncating<byte, T>(data, result);
                break;
            case IdxElementType.SignedByte:
                TensorPrimitives.ConvertTruncating<sbyte, T>(MemoryMarshal.Cast<byte, sbyte>(data), result);
                break;
            case IdxElementType.Int16:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadInt16BigEndian(data[(2 * i)..]));
                break;
            case IdxElementType.Int32:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadInt32BigEndian(data[(4 * i)..]));
                break;
            case IdxElementType.Float32:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadSingleBigEndian(data[(4 * i)..]));
                break;
            case IdxElementType.Float64:
                for (int i = 0; i < result.Length; i++) result[i] = T.CreateTruncating(BinaryPrimitives.ReadDoubleBigEndian(data[(8 * i)..]));
                break;
        }
        return result;
    }
}
