using System.Buffers.Binary;
using System.IO.Compression;
using Backprop.Data;
using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Data;

public class IdxFileTests
{
    [Fact]
    public void Reads_the_bundled_gzip_training_labels_with_known_values()
    {
        var labels = IdxFile.Read(BundledMnist.File("train-labels-idx1-ubyte.gz"));

        Assert.Equal(IdxElementType.UnsignedByte, labels.ElementType);
        Assert.Equal([7996], labels.Dimensions);
        // The first labels and the per-digit counts of this subset, read independently of this reader.
        Assert.Equal(new long[] { 1, 9, 8, 0, 7, 5, 3, 5, 1, 5, 2, 6 }, labels.ToTensor().ToArray<long>()[..12]);
        var counts = new int[10];
        foreach (var b in labels.RawData) counts[b]++;
        Assert.Equal([800, 901, 792, 825, 784, 690, 811, 856, 755, 782], counts);
    }

    [Fact]
    public void Reads_the_bundled_training_images_header_and_pixels()
    {
        var images = IdxFile.Read(BundledMnist.File("train-images-idx3-ubyte.gz"));

        Assert.Equal([7996, 28, 28], images.Dimensions);
        Assert.Equal(7996 * 28 * 28, images.Count);
        var first = images.RawData[..784];
        int sum = 0, nonZero = 0;
        foreach (var p in first)
        {
            sum += p;
            if (p != 0) nonZero++;
        }
        Assert.Equal(17195, sum);
        Assert.Equal(103, nonZero);
        Assert.Equal(253, first[14 * 28 + 14]);
    }

    [Fact]
    public void Reads_raw_files_the_same_as_gzip()
    {
        using var dir = new TempDirectory();
        var raw = dir.File("labels-idx1-ubyte");
        using (var gz = new GZipStream(File.OpenRead(BundledMnist.File("test-labels-idx1-ubyte.gz")), CompressionMode.Decompress))
        using (var output = File.Create(raw))
            gz.CopyTo(output);

        var fromRaw = IdxFile.Read(raw);
        var fromGzip = IdxFile.Read(BundledMnist.File("test-labels-idx1-ubyte.gz"));

        Assert.Equal([2004], fromRaw.Dimensions);
        Assert.True(fromRaw.RawData.SequenceEqual(fromGzip.RawData));
    }

    [Fact]
    public void Decodes_big_endian_multi_byte_element_types()
    {
        using var dir = new TempDirectory();
        var ints = dir.File("ints.idx");
        var body = new byte[4 * 3];
        BinaryPrimitives.WriteInt32BigEndian(body, -5);
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(4), 70000);
        BinaryPrimitives.WriteInt32BigEndian(body.AsSpan(8), 1);
        File.WriteAllBytes(ints, [.. Header(0x0C, 3), .. body]);
        var floats = dir.File("floats.idx");
        body = new byte[4 * 4];
        BinaryPrimitives.WriteSingleBigEndian(body, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(body.AsSpan(4), -0.25f);
        BinaryPrimitives.WriteSingleBigEndian(body.AsSpan(8), 3f);
        BinaryPrimitives.WriteSingleBigEndian(body.AsSpan(12), 1e-3f);
        File.WriteAllBytes(floats, [.. Header(0x0D, 2, 2), .. body]);

        var a = IdxFile.Read(ints).ToTensor();
        var b = IdxFile.Read(floats).ToTensor();

        Assert.Equal(DType.Int64, a.DType);
        Assert.Equal(new long[] { -5, 70000, 1 }, a.ToArray<long>());
        Assert.Equal(DType.Float32, b.DType);
        Assert.Equal(new Shape(2, 2), b.Shape);
        Assert.Equal(new[] { 1.5f, -0.25f, 3f, 1e-3f }, b.ToArray<float>());
    }

    [Fact]
    public void Corrupt_magic_number_names_the_file()
    {
        using var dir = new TempDirectory();
        var path = dir.File("images.idx");
        File.WriteAllBytes(path, [0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7]);

        var e = Assert.Throws<MalformedFileException>(() => IdxFile.Read(path));

        Assert.StartsWith(path + ":", e.Message);
        Assert.Contains("not an IDX file", e.Message);
        Assert.Contains("0x12340801", e.Message);
    }

    [Fact]
    public void Unknown_element_type_is_reported()
    {
        using var dir = new TempDirectory();
        var path = dir.File("odd.idx");
        File.WriteAllBytes(path, [.. Header(0x07, 1), 5]);

        var e = Assert.Throws<MalformedFileException>(() => IdxFile.Read(path));

        Assert.Contains("unknown IDX element type 0x07", e.Message);
    }

    [Fact]
    public void Truncated_raw_payload_says_how_many_bytes_were_expected_and_found()
    {
        using var dir = new TempDirectory();
        var path = dir.File("train-images-idx3-ubyte");
        File.WriteAllBytes(path, [.. Header(0x08, 10, 28, 28), .. new byte[1000]]);

        var e = Assert.Throws<MalformedFileException>(() => IdxFile.Read(path));

        Assert.Equal(path, e.FilePath);
        Assert.Equal("expected 7840 bytes of data after the 16-byte header (10 × 28 × 28 ubyte), found 1000 (file truncated?)", e.Problem);
    }

    [Fact]
    public void Truncated_gzip_is_reported_as_a_short_payload()
    {
        using var dir = new TempDirectory();
        var path = dir.File("train-images-idx3-ubyte.gz");
        var bytes = File.ReadAllBytes(BundledMnist.File("train-images-idx3-ubyte.gz"));
        File.WriteAllBytes(path, bytes[..100_000]);

        var e = Assert.Throws<MalformedFileException>(() => IdxFile.Read(path));

        Assert.StartsWith(path + ": expected 6268864 bytes of data after the 16-byte header (7996 × 28 × 28 ubyte), found ", e.Message);
        Assert.EndsWith("(file truncated?)", e.Message);
    }

    [Fact]
    public void Corrupt_gzip_data_is_reported()
    {
        using var dir = new TempDirectory();
        var path = dir.File("train-labels-idx1-ubyte.gz");
        var bytes = File.ReadAllBytes(BundledMnist.File("train-labels-idx1-ubyte.gz"));
        for (int i = 20; i < 60; i++) bytes[i] ^= 0x5A;
        File.WriteAllBytes(path, bytes);

        var e = Assert.Throws<MalformedFileException>(() => IdxFile.Read(path));

        Assert.Contains(path, e.Message);
        Assert.Contains("gzip data is corrupt", e.Message);
    }

    [Fact]
    public void Bytes_beyond_the_declared_dimensions_are_reported()
    {
        using var dir = new TempDirectory();
        var path = dir.File("labels.idx");
        File.WriteAllBytes(path, [.. Header(0x08, 3), 1, 2, 3, 4, 5]);

        var e = Assert.Throws<MalformedFileException>(() => IdxFile.Read(path));

        Assert.Contains("2 bytes more than the dimensions account for", e.Message);
    }

    [Fact]
    public void Header_cut_short_is_reported()
    {
        using var dir = new TempDirectory();
        var path = dir.File("short.idx");
        File.WriteAllBytes(path, [0, 0, 0x08, 3, 0, 0, 0, 10]);

        var e = Assert.Throws<MalformedFileException>(() => IdxFile.Read(path));

        Assert.Contains("ends inside the 16-byte header", e.Message);
    }

    internal static byte[] Header(byte type, params int[] dims)
    {
        var header = new byte[4 + 4 * dims.Length];
        header[2] = type;
        header[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * d), dims[d]);
        return header;
    }
}
