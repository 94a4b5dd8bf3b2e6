using System.Buffers.Binary;
using System.IO.Compression;
using Backprop.IO;

namespace Backprop.Data;

/// <summary>
/// Reads IDX files, the format MNIST is distributed in: a magic number (two zero bytes, an element type byte and a
/// dimension count), one big-endian 32-bit size per dimension, then the elements in row-major order. Files may be
/// gzip-compressed (recognised by the gzip magic bytes, not the name).
/// </summary>
public static class IdxFile
{
    /// <summary>
    /// Reads and checks an IDX file. Anything wrong (not IDX, unknown element type, a truncated or over-long payload,
    /// corrupt gzip data) throws <see cref="MalformedFileException"/> naming the file and the problem.
    /// </summary>
    public static IdxArray Read(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        Span<byte> magic = stackalloc byte[2];
        bool gzip = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false) == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
        file.Position = 0;
        if (!gzip) return Parse(file, path, file.Length);
        using var decompressed = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
        try
        {
            return Parse(decompressed, path, knownLength: null);
        }
        catch (InvalidDataException e)
        {
            throw new MalformedFileException(path, $"the gzip data is corrupt ({e.Message})", e);
        }
    }

    private static IdxArray Parse(Stream source, string path, long? knownLength)
    {
        Span<byte> magic = stackalloc byte[4];
        int got = source.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        if (got < 4) throw new MalformedFileException(path, $"the data is {got} bytes long; an IDX file starts with a 4-byte magic number");
        if (magic[0] != 0 || magic[1] != 0)
            throw new MalformedFileException(path,
                $"not an IDX file: its magic number is 0x{magic[0]:X2}{magic[1]:X2}{magic[2]:X2}{magic[3]:X2}, and an IDX magic number starts with two zero bytes");
        var type = (IdxElementType)magic[2];
        if (!Enum.IsDefined(type))
            throw new MalformedFileException(path,
                $"unknown IDX element type 0x{magic[2]:X2} (expected 0x08 ubyte, 0x09 sbyte, 0x0B int16, 0x0C int32, 0x0D float32 or 0x0E float64)");
        int rank = magic[3];
        if (rank == 0) throw new MalformedFileException(path, "the header declares 0 dimensions");

        int headerLength = 4 + 4 * rank;
        var sizeBytes = new byte[4 * rank];
        if (source.ReadAtLeast(sizeBytes, sizeBytes.Length, throwOnEndOfStream: false) < sizeBytes.Length)
            throw new MalformedFileException(path, $"the file ends inside the {headerLength}-byte header of {rank} dimensions (file truncated?)");
        var dims = new int[rank];
        long count = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(sizeBytes.AsSpan(4 * d));
            if (dims[d] < 0) throw new MalformedFileException(path, $"dimension {d} has the negative size {dims[d]}");
            count *= dims[d];
            if (count > Array.MaxLength) throw new MalformedFileException(path, $"the dimensions {Describe(dims[..(d + 1)])} hold more elements than fit in memory");
        }
        int elementSize = IdxArray.ElementSize(type);
        long expected = count * elementSize;
        if (expected > Array.MaxLength)
            throw new MalformedFileException(path, $"the dimensions {Describe(dims)} of {elementSize}-byte elements need more bytes than fit in memory");
        string what = $"{expected} bytes of data after the {headerLength}-byte header ({Describe(dims)} {TypeName(type)})";

        if (knownLength is long length && length - headerLength != expected)
        {
            long present = length - headerLength;
            throw new MalformedFileException(path, present < expected
                ? $"expected {what}, found {present} (file truncated?)"
                : $"expected {what}, found {present}: {present - expected} bytes more than the dimensions account for");
        }

        var data = new byte[expected];
        int read = source.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < expected) throw new MalformedFileException(path, $"expected {what}, found {read} (file truncated?)");
        long extra = CountRemaining(source);
        if (extra > 0)
            throw new MalformedFileException(path, $"expected {what}, found {expected + extra}: {extra} bytes more than the dimensions account for");
        return new IdxArray(type, dims, data);
    }

    private static long CountRemaining(Stream source)
    {
        var buffer = new byte[1 << 14];
        long total = 0;
        int n;
        while ((n = source.Read(buffer)) > 0) total += n;
        return total;
    }

    private static string Describe(int[] dims) => string.Join(" × ", dims);

    private static string TypeName(IdxElementType type) => type switch
    {
        IdxElementType.UnsignedByte => "ubyte",
        IdxElementType.SignedByte => "sbyte",
        IdxElementType.Int16 => "int16",
        IdxElementType.Int32 => "int32",
        IdxElementType.Float32 => "float32",
        _ => "float64",
    };
}
