using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Backprop.IO;

namespace Backprop.Tests.IO;

public class SafeTensorsTests
{
    /// <summary>A file laid out by the published format: 8-byte little-endian header size, header JSON, data.</summary>
    private static byte[] Build(string headerJson, byte[] data, int padTo = 1)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        int padding = (padTo - header.Length % padTo) % padTo;
        var file = new byte[8 + header.Length + padding + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(header.Length + padding));
        header.CopyTo(file, 8);
        file.AsSpan(8 + header.Length, padding).Fill((byte)' ');
        data.CopyTo(file, 8 + header.Length + padding);
        return file;
    }

    private static string WriteFile(TempDirectory dir, byte[] bytes, string name = "model.safetensors")
    {
        var path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Round_trips_every_dtype_scalars_empty_and_non_contiguous_tensors_and_metadata()
    {
        using var dir = new TempDirectory();
        var path = dir.File("all.safetensors");
        var matrix = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var tensors = new Dictionary<string, Tensor>
        {
            ["layer.weight"] = matrix,
            ["layer.weight_t"] = matrix.T,
            ["double"] = Tensor.FromArray(new[] { Math.PI, -0.0, double.MaxValue }),
            ["labels"] = Tensor.FromArray(new long[] { long.MinValue, 0, 42 }),
            ["step"] = Tensor.Scalar(7, DType.Int64),
            ["empty"] = Tensor.Zeros([0, 3]),
            ["ünïcode ✓"] = Tensor.Ones(1),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "läuft \"quoted\"" };

        SafeTensors.Save(path, tensors, metadata);
        var loaded = SafeTensors.Load(path);

        Assert.Equal(tensors.Keys.Order(), loaded.Tensors.Keys.Order());
        foreach (var (name, tensor) in tensors)
        {
            Assert.Equal(tensor.Shape, loaded.Tensors[name].Shape);
            Assert.Equal(tensor.DType, loaded.Tensors[name].DType);
            Assert.Equal(tensor.ToArray<double>(), loaded.Tensors[name].ToArray<double>());
        }
        Assert.Equal(new long[] { long.MinValue, 0, 42 }, loaded.Tensors["labels"].ToArray<long>());
        Assert.Equal(new float[] { 1, 4, 2, 5, 3, 6 }, loaded.Tensors["layer.weight_t"].ToArray<float>());
        Assert.Equal(metadata, loaded.Metadata);
    }

    [Fact]
    public void Writes_the_reference_layout_aligned_header_and_little_endian_data()
    {
        var stream = new MemoryStream();
        SafeTensors.Write(stream, new Dictionary<string, Tensor>
        {
            ["b"] = Tensor.FromArray(new[] { 1.5f, -2f }),
            ["a"] = Tensor.FromArray(new[] { 0.25f }),
            ["ids"] = Tensor.FromArray(new long[] { 258 }),
            ["x"] = Tensor.FromArray(new[] { 1.0 }),
        }, new Dictionary<string, string> { ["k"] = "v" });
        var bytes = stream.ToArray();

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        Assert.Equal((byte)'{', bytes[8]);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Equal(header.TrimEnd(' '), header.TrimEnd(' ').Trim());
        using var json = JsonDocument.Parse(header);
        var names = json.RootElement.EnumerateObject().Select(p => p.Name).ToArray();
        // Metadata first, then 8-byte dtypes (I64 before F64, as the reference sorts), then F32 by name.
        Assert.Equal(["__metadata__", "ids", "x", "a", "b"], names);
        Assert.Equal("v", json.RootElement.GetProperty("__metadata__").GetProperty("k").GetString());
        var b = json.RootElement.GetProperty("b");
        Assert.Equal("F32", b.GetProperty("dtype").GetString());
        Assert.Equal([2], b.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([20L, 28L], b.GetProperty("data_offsets").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal(8 + (int)n + 28, bytes.Length);
        var data = bytes.AsSpan(8 + (int)n);
        Assert.Equal(258L, BinaryPrimitives.ReadInt64LittleEndian(data));
        Assert.Equal(1.0, BinaryPrimitives.ReadDoubleLittleEndian(data[8..]));
        Assert.Equal(0.25f, BinaryPrimitives.ReadSingleLittleEndian(data[16..]));
        Assert.Equal(-2f, BinaryPrimitives.ReadSingleLittleEndian(data[24..]));
    }

    [Fact]
    public void Reads_a_file_built_by_hand_from_the_published_format()
    {
        using var dir = new TempDirectory();
        // Written in another library's order (not alignment-sorted), no padding, offsets out of name order.
        var data = new byte[16 + 16 + 8];
        float[] weight = [1f, -2.5f, 3.25f, 1e-7f];
        for (int i = 0; i < 4; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), weight[i]);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(16), 0.1);
        BinaryPrimitives.WriteDoubleLittleEndian(data.AsSpan(24), -1e300);
        BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(32), 1234567890123);
        var path = WriteFile(dir, Build(
            """{"step":{"dtype":"I64","shape":[],"data_offsets":[32,40]},"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"format":"pt"},"bias":{"dtype":"F64","shape":[2],"data_offsets":[16,32]}}""",
            data));

        var content = SafeTensors.Load(path);

        Assert.Equal(["step", "weight", "bias"], content.Tensors.Keys);
        Assert.Equal(new Shape(2, 2), content.Tensors["weight"].Shape);
        Assert.Equal(weight, content.Tensors["weight"].ToArray<float>());
        Assert.Equal(new[] { 0.1, -1e300 }, content.Tensors["bias"].ToArray<double>());
        Assert.Equal(0, content.Tensors["step"].Rank);
        Assert.Equal(1234567890123L, content.Tensors["step"].Item<long>());
        Assert.Equal("pt", content.Metadata["format"]);
    }

    [Fact]
    public void Reads_the_reference_documentation_example()
    {
        using var dir = new TempDirectory();
        // The example in the safetensors crate's docs: header size 60 ('<'), one I32 [2, 2] tensor of zeros.
        var path = WriteFile(dir, Build("""{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}""", new byte[16]));
        Assert.Equal((byte)'<', File.ReadAllBytes(path)[0]);

        var test = SafeTensors.Load(path).Tensors["test"];

        Assert.Equal(DType.Int32, test.DType);
        Assert.Equal(new Shape(2, 2), test.Shape);
        Assert.Equal(new int[4], test.ToArray<int>());
    }

    [Fact]
    public void Narrow_dtypes_written_by_other_libraries_are_widened_exactly()
    {
        using var dir = new TempDirectory();
        var data = new byte[4 + 4 + 8 + 2 + 2];
        BinaryPrimitives.WriteUInt16LittleEndian(data, BitConverter.HalfToUInt16Bits((Half)1.5));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(2), BitConverter.HalfToUInt16Bits((Half)(-0.125)));
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(4), 0x4040); // bfloat16 3.0
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(6), 0xBF80); // bfloat16 -1.0
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(8), -7);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(12), int.MaxValue);
        data[16] = 200;
        data[17] = 0xFF; // I8 −1
        data[18] = 1;
        data[19] = 0;
        var path = WriteFile(dir, Build(
            """{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},"bf":{"dtype":"BF16","shape":[2],"data_offsets":[4,8]},"i":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},"u":{"dtype":"U8","shape":[1],"data_offsets":[16,17]},"s":{"dtype":"I8","shape":[1],"data_offsets":[17,18]},"mask":{"dtype":"BOOL","shape":[2],"data_offsets":[18,20]}}""",
            data, padTo: 8));

        var t = SafeTensors.Load(path).Tensors;

        Assert.Equal(DType.Float16, t["h"].DType);
        Assert.Equal(new[] { 1.5f, -0.125f }, t["h"].ToArray<float>());
        Assert.Equal(DType.BFloat16, t["bf"].DType);
        Assert.Equal(new[] { 3f, -1f }, t["bf"].ToArray<float>());
        Assert.Equal(DType.Int32, t["i"].DType);
        Assert.Equal(new long[] { -7, int.MaxValue }, t["i"].ToArray<long>());
        Assert.Equal(new long[] { 200 }, t["u"].ToArray<long>());
        Assert.Equal(new long[] { -1 }, t["s"].ToArray<long>());
        Assert.Equal(DType.Bool, t["mask"].DType);
        Assert.Equal(new[] { true, false }, t["mask"].ToArray<bool>());
    }

    public static TheoryData<string, string, int, string> CorruptFiles => new()
    {
        { "not JSON", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}""", 4, "the header is not valid JSON" },
        { "not an object", """["a"]""", 0, "does not start with '{'" },
        { "unknown dtype", """{"a":{"dtype":"F8_E4M3","shape":[4],"data_offsets":[0,4]}}""", 4, "tensor 'a': dtype 'F8_E4M3' is not supported" },
        { "shape vs span", """{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}""", 20, "tensor 'a': shape [2, 3] of F32 needs 24 bytes, but data_offsets [0,20] span 20" },
        { "overlap", """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "overlaps tensor 'a'" },
        { "gap", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "bytes 0..4 of the data buffer, before tensor 'a', belong to no tensor" },
        { "unindexed tail", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 12, "8 bytes at the end of the data buffer belong to no tensor" },
        { "data missing", """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", 10, "describes 16 bytes of tensor data but 10 bytes follow it (file truncated?)" },
        { "offsets reversed", """{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}""", 4, "end before they begin" },
        { "offsets not numbers", """{"a":{"dtype":"F32","shape":[1],"data_offsets":["0","4"]}}""", 4, "data_offsets [\"0\",\"4\"] must be non-negative integers" },
        { "huge dim after zero", """{"a":{"dtype":"F32","shape":[0,4294967296],"data_offsets":[0,0]}}""", 0, "has more elements than a tensor holds" },
        { "negative dim", """{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "shape entries must be non-negative integers" },
        { "missing field", """{"a":{"dtype":"F32","data_offsets":[0,4]}}""", 4, "tensor 'a': missing the array field 'shape'" },
        { "duplicate name", """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8, "names 'a' twice" },
        { "metadata not strings", """{"__metadata__":{"epoch":3}}""", 0, "metadata entry 'epoch' must be a string" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Invalid_headers_are_rejected_naming_the_file_and_the_problem(string name, string header, int dataBytes, string problem)
    {
        _ = name;
        using var dir = new TempDirectory();
        var path = WriteFile(dir, Build(header, new byte[dataBytes]));

        var e = Assert.Throws<MalformedFileException>(() => SafeTensors.Load(path));

        Assert.StartsWith(path + ": ", e.Message);
        Assert.Contains(problem, e.Problem);
    }

    [Fact]
    public void A_header_size_beyond_the_file_is_reported_as_truncation()
    {
        using var dir = new TempDirectory();
        var good = dir.File("good.safetensors");
        SafeTensors.Save(good, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(100) });
        var bytes = File.ReadAllBytes(good);
        var path = WriteFile(dir, bytes[..40], "cut.safetensors");

        var e = Assert.Throws<MalformedFileException>(() => SafeTensors.Load(path));

        Assert.Contains("cut.safetensors: the header size field says", e.Message);
        Assert.Contains("only 32 bytes follow it (file truncated", e.Message);
    }

    [Fact]
    public void A_file_cut_inside_the_data_is_reported_as_truncation()
    {
        using var dir = new TempDirectory();
        var good = dir.File("good.safetensors");
        SafeTensors.Save(good, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(100) });
        var bytes = File.ReadAllBytes(good);
        var path = WriteFile(dir, bytes[..^4], "cut.safetensors");

        var e = Assert.Throws<MalformedFileException>(() => SafeTensors.Load(path));

        Assert.Contains("describes 400 bytes of tensor data but 396 bytes follow it (file truncated?)", e.Message);
    }

    [Fact]
    public void A_non_seekable_stream_cut_inside_a_tensor_is_reported()
    {
        var stream = new MemoryStream();
        SafeTensors.Write(stream, new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(100) });
        var bytes = stream.ToArray()[..^4];

        var e = Assert.Throws<MalformedFileException>(() => SafeTensors.Read(new ForwardOnlyStream(bytes), "pipe"));

        Assert.Equal("pipe: the file ends inside tensor 'w' (bytes 0..400; file truncated?)", e.Message);
    }

    [Fact]
    public void Tiny_and_foreign_files_are_rejected()
    {
        using var dir = new TempDirectory();
        var tiny = WriteFile(dir, [1, 2, 3], "tiny.safetensors");
        var text = WriteFile(dir, Encoding.ASCII.GetBytes("this is a text file, not tensors"), "notes.safetensors");

        Assert.Contains("the file is 3 bytes long", Assert.Throws<MalformedFileException>(() => SafeTensors.Load(tiny)).Message);
        Assert.Contains("notes.safetensors: the header size field says", Assert.Throws<MalformedFileException>(() => SafeTensors.Load(text)).Message);
    }

    [Fact]
    public void The_metadata_key_cannot_name_a_tensor()
    {
        var e = Assert.Throws<ArgumentException>(() =>
            SafeTensors.Write(new MemoryStream(), new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Ones(1) }));

        Assert.Contains("reserved", e.Message);
    }

    private sealed class ForwardOnlyStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }
}
