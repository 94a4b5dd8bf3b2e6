using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace Backprop.IO;

/// <summary>
/// The safetensors format (Hugging Face's): an 8-byte little-endian header size N, N bytes of UTF-8 JSON mapping each
/// tensor's name to <c>{"dtype", "shape", "data_offsets": [begin, end]}</c> (offsets into the data buffer) plus an
/// optional <c>"__metadata__"</c> string→string map, then the data buffer: every tensor contiguous, row-major,
/// little-endian, together covering the buffer without gaps or overlaps.
/// </summary>
/// <remarks>
/// Files are written the way the reference implementation writes them: tensors ordered by alignment (8-byte dtypes
/// first) then name, the header padded with spaces to a multiple of 8 bytes so every tensor starts aligned.
/// Reading checks everything the format promises and names the file and the problem when a check fails. Besides the
/// F32, F64 and I64 that Backprop writes, files holding F16 or BF16 load as Float32, and files holding BOOL, U8, I8,
/// I16, U16, I32 or U32 load as Int64 (widening, so values are exact).
/// </remarks>
public static class SafeTensors
{
    /// <summary>The header key under which the string metadata map is stored.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>The reference implementation refuses larger headers; a bigger size field means a corrupt or foreign file.</summary>
    private const ulong MaxHeaderSize = 100_000_000;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Writes <paramref name="tensors"/> and <paramref name="metadata"/> to <paramref name="path"/> atomically: the
    /// previous file, if any, stays intact until the new one is complete on disk.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var layout = Layout.Plan(tensors, metadata);
        AtomicFile.Write(path, layout.WriteTo);
    }

    /// <summary>Writes the safetensors encoding of <paramref name="tensors"/> and <paramref name="metadata"/> to a stream.</summary>
    public static void Write(Stream destination, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(destination);
        Layout.Plan(tensors, metadata).WriteTo(destination);
    }

    /// <summary>Reads a safetensors file; throws <see cref="MalformedFileException"/> naming the file when it is not valid.</summary>
    public static SafeTensorsContent Load(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads a safetensors encoding from a stream; <paramref name="name"/> identifies the source in error messages.</summary>
    public static SafeTensorsContent Read(Stream source, string name)
    {
        ArgumentNullException.ThrowIfNull(source);
        long? available = source.CanSeek ? source.Length - source.Position : null;

        Span<byte> sizeField = stackalloc byte[8];
        int got = source.ReadAtLeast(sizeField, 8, throwOnEndOfStream: false);
        if (got < 8)
            throw new MalformedFileException(name, $"the file is {got} bytes long; a safetensors file starts with an 8-byte header size");
        ulong headerSize = BinaryPrimitives.ReadUInt64LittleEndian(sizeField);
        if (available is long total && headerSize > (ulong)(total - 8))
            throw new MalformedFileException(name,
                $"the header size field says {headerSize} bytes, but only {total - 8} bytes follow it (file truncated, or not a safetensors file?)");
        if (headerSize > MaxHeaderSize)
            throw new MalformedFileException(name,
                $"the header size field says {headerSize} bytes, more than the format's limit of {MaxHeaderSize} (not a safetensors file?)");

        var header = new byte[headerSize];
        if (source.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length)
            throw new MalformedFileException(name, $"the file ends inside the {headerSize}-byte header (file truncated?)");
        var entries = ParseHeader(header, name, out var metadata);

        long dataLength = CheckCoverage(entries, name);
        long? present = available - 8 - (long)headerSize;
        if (present is long bytesPresent && bytesPresent != dataLength)
        {
            throw new MalformedFileException(name, bytesPresent < dataLength
                ? $"the header describes {dataLength} bytes of tensor data but {bytesPresent} bytes follow it (file truncated?)"
                : $"{bytesPresent - dataLength} bytes at the end of the data buffer belong to no tensor (the format forbids unindexed bytes)");
        }

        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
            tensors[entry.Name] = ReadTensor(source, entry, name);
        if (available is null && source.ReadByte() >= 0)
            throw new MalformedFileException(name, "bytes follow the last tensor's data that belong to no tensor (the format forbids unindexed bytes)");

        // Hand back tensors in the header's order, which is what a reader of the file would expect to see.
        var ordered = new Dictionary<string, Tensor>(tensors.Count, StringComparer.Ordinal);
        foreach (var entry in entries) ordered[entry.Name] = tensors[entry.Name];
        return new SafeTensorsContent(ordered, metadata);
    }

    private sealed record Entry(string Name, ElementFormat Format, int[] Shape, int Count, long Begin, long End);

    private static List<Entry> ParseHeader(byte[] header, string name, out Dictionary<string, string> metadata)
    {
        if (header.Length == 0 || header[0] != (byte)'{')
            throw new MalformedFileException(name, "the header does not start with '{' (not a safetensors file?)");
        if (!Utf8.IsValid(header))
            throw new MalformedFileException(name, "the header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new MalformedFileException(name, $"the header is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new MalformedFileException(name, "the header is not a JSON object");
            metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new MalformedFileException(name, $"the header names '{property.Name}' twice");
                if (property.Name == MetadataKey) ParseMetadata(property.Value, name, metadata);
                else entries.Add(ParseEntry(property.Name, property.Value, name));
            }
            return entries;
        }
    }

    private static void ParseMetadata(JsonElement element, string name, Dictionary<string, string> metadata)
    {
        if (element.ValueKind == JsonValueKind.Null) return;
        if (element.ValueKind != JsonValueKind.Object)
            throw new MalformedFileException(name, $"'{MetadataKey}' must be an object of strings; found {Describe(element)}");
        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new MalformedFileException(name, $"metadata entry '{item.Name}' must be a string; found {Describe(item.Value)}");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new MalformedFileException(name, $"metadata names '{item.Name}' twice");
        }
    }

    private static Entry ParseEntry(string tensor, JsonElement element, string name)
    {
        string Where() => $"tensor '{tensor}'";
        if (element.ValueKind != JsonValueKind.Object)
            throw new MalformedFileException(name, $"{Where()}: expected an object with dtype, shape and data_offsets; found {Describe(element)}");

        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw new MalformedFileException(name, $"{Where()}: missing the string field 'dtype'");
        var dtypeName = dtypeElement.GetString()!;
        var format = ElementFormat.Parse(dtypeName)
            ?? throw new MalformedFileException(name, $"{Where()}: dtype '{dtypeName}' is not supported (readable: {ElementFormat.Names})");

        if (!element.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new MalformedFileException(name, $"{Where()}: missing the array field 'shape'");
        var shape = new int[shapeElement.GetArrayLength()];
        long count = 1;
        int d = 0;
        foreach (var dim in shapeElement.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long size) || size < 0)
                throw new MalformedFileException(name, $"{Where()}: shape entries must be non-negative integers; found {dim.GetRawText()}");
            count *= Math.Min(size, (long)int.MaxValue + 1); // both factors stay ≤ 2³¹, so the product cannot overflow
            if (size > int.MaxValue || count > int.MaxValue)
                throw new MalformedFileException(name, $"{Where()}: shape {shapeElement.GetRawText()} has more elements than a tensor holds ({int.MaxValue})");
            shape[d++] = (int)size;
        }

        if (!element.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new MalformedFileException(name, $"{Where()}: missing 'data_offsets' as an array [begin, end]");
        if (offsets[0].ValueKind != JsonValueKind.Number || offsets[1].ValueKind != JsonValueKind.Number
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end) || begin < 0 || end < 0)
            throw new MalformedFileException(name, $"{Where()}: data_offsets {offsets.GetRawText()} must be non-negative integers");
        if (end < begin)
            throw new MalformedFileException(name, $"{Where()}: data_offsets {offsets.GetRawText()} end before they begin");
        long bytes = count * format.Size;
        if (end - begin != bytes)
            throw new MalformedFileException(name,
                $"{Where()}: shape {Backprop.Shape.Format(shape)} of {format.Name} needs {bytes} bytes, but data_offsets {offsets.GetRawText()} span {end - begin}");
        return new Entry(tensor, format, shape, (int)count, begin, end);
    }

    /// <summary>Checks the tensors tile the data buffer from 0 without gaps or overlaps, and returns its length.</summary>
    private static long CheckCoverage(List<Entry> entries, string name)
    {
        long expected = 0;
        Entry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin < expected)
                throw new MalformedFileException(name,
                    $"tensor '{entry.Name}' (bytes {entry.Begin}..{entry.End}) overlaps tensor '{previous!.Name}' (bytes {previous.Begin}..{previous.End})");
            if (entry.Begin > expected)
                throw new MalformedFileException(name,
                    $"bytes {expected}..{entry.Begin} of the data buffer, before tensor '{entry.Name}', belong to no tensor (the format forbids unindexed bytes)");
            expected = entry.End;
            previous = entry;
        }
        return expected;
    }

    private static Tensor ReadTensor(Stream source, Entry entry, string name)
    {
        var format = entry.Format;
        if (format.IsNative)
        {
            Storage storage = format.Target switch
            {
                DType.Float32 => ReadNative<float>(source, entry, name),
                DType.Float64 => ReadNative<double>(source, entry, name),
                DType.Int64 => ReadNative<long>(source, entry, name),
                DType.Int32 => ReadNative<int>(source, entry, name),
                DType.Float16 => ReadNative<Half>(source, entry, name),
                DType.BFloat16 => ReadNative<BFloat16>(source, entry, name),
                _ => throw new InvalidOperationException($"No native safetensors read for {format.Target.DisplayName()}."),
            };
            return new Tensor(storage, entry.Shape);
        }
        var raw = new byte[entry.End - entry.Begin];
        ReadData(source, raw, entry, name);
        return new Tensor(format.Widen(raw, entry.Count), entry.Shape);
    }

    private static Storage ReadNative<T>(Stream source, Entry entry, string name) where T : unmanaged
    {
        var values = new T[entry.Count];
        var bytes = MemoryMarshal.AsBytes(values.AsSpan());
        ReadData(source, bytes, entry, name);
        if (!BitConverter.IsLittleEndian) ElementFormat.SwapBytes(bytes, entry.Format.Size);
        return Tensor.AdoptHostArray(values);
    }

    private static void ReadData(Stream source, Span<byte> destination, Entry entry, string name)
    {
        if (source.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false) < destination.Length)
            throw new MalformedFileException(name, $"the file ends inside tensor '{entry.Name}' (bytes {entry.Begin}..{entry.End}; file truncated?)");
    }

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{element.GetString()}\"",
        _ => element.GetRawText(),
    };

    /// <summary>The header and the order tensors are written in, computed (and the input checked) before anything is written.</summary>
    private sealed class Layout
    {
        private readonly byte[] _header;
        private readonly List<KeyValuePair<string, Tensor>> _tensors;

        private Layout(byte[] header, List<KeyValuePair<string, Tensor>> tensors)
        {
            _header = header;
            _tensors = tensors;
        }

        public static Layout Plan(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata)
        {
            ArgumentNullException.ThrowIfNull(tensors);
            foreach (var (key, tensor) in tensors)
            {
                if (key == MetadataKey)
                    throw new ArgumentException($"SafeTensors: '{MetadataKey}' is reserved for the metadata map and cannot name a tensor.", nameof(tensors));
                if (tensor is null) throw new ArgumentException($"SafeTensors: tensor '{key}' is null.", nameof(tensors));
            }

            // As the reference implementation does: widest alignment first, then by name, so every tensor starts aligned.
            var ordered = tensors
                .OrderByDescending(kv => kv.Value.DType.ElementSize())
                .ThenBy(kv => kv.Value.DType == DType.Int64 ? 0 : 1)
                .ThenBy(kv => kv.Key, StringComparer.Ordinal)
                .ToList();

            var buffer = new ArrayBufferWriter<byte>();
            using (var json = new Utf8JsonWriter(buffer, WriterOptions))
            {
                json.WriteStartObject();
                if (metadata is { Count: > 0 })
                {
                    json.WriteStartObject(MetadataKey);
                    foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    {
                        if (value is null) throw new ArgumentException($"SafeTensors: metadata entry '{key}' is null.", nameof(metadata));
                        json.WriteString(key, value);
                    }
                    json.WriteEndObject();
                }
                long offset = 0;
                foreach (var (key, tensor) in ordered)
                {
                    long bytes = (long)tensor.NumElements * tensor.DType.ElementSize();
                    json.WriteStartObject(key);
                    json.WriteString("dtype", ElementFormat.NameOf(tensor.DType));
                    json.WriteStartArray("shape");
                    foreach (var size in tensor.Sizes) json.WriteNumberValue(size);
                    json.WriteEndArray();
                    json.WriteStartArray("data_offsets");
                    json.WriteNumberValue(offset);
                    json.WriteNumberValue(offset + bytes);
                    json.WriteEndArray();
                    json.WriteEndObject();
                    offset += bytes;
                }
                json.WriteEndObject();
            }

            int padding = (8 - buffer.WrittenCount % 8) % 8;
            buffer.GetSpan(padding)[..padding].Fill((byte)' ');
            buffer.Advance(padding);
            return new Layout(buffer.WrittenSpan.ToArray(), ordered);
        }

        public void WriteTo(Stream destination)
        {
            Span<byte> sizeField = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(sizeField, (ulong)_header.Length);
            destination.Write(sizeField);
            destination.Write(_header);
            foreach (var (_, tensor) in _tensors)
            {
                switch (tensor.DType)
                {
                    case DType.Float32: WriteElements<float>(destination, tensor); break;
                    case DType.Float64: WriteElements<double>(destination, tensor); break;
                    case DType.Int64: WriteElements<long>(destination, tensor); break;
                    case DType.Int32: WriteElements<int>(destination, tensor); break;
                    case DType.Bool: WriteElements<bool>(destination, tensor); break;
                    case DType.Float16: WriteElements<Half>(destination, tensor); break;
                    case DType.BFloat16: WriteElements<BFloat16>(destination, tensor); break;
                    default: throw new NotSupportedException($"SafeTensors: tensors of dtype {tensor.DType.DisplayName()} cannot be written.");
                }
            }
        }

        private static void WriteElements<T>(Stream destination, Tensor tensor) where T : unmanaged
        {
            ReadOnlySpan<T> values = tensor.IsContiguous && tensor.TryGetHostArray<T>(out var host)
                ? host.AsSpan(tensor.Offset, tensor.NumElements)
                : tensor.ToArray<T>();
            if (BitConverter.IsLittleEndian)
            {
                destination.Write(MemoryMarshal.AsBytes(values));
                return;
            }
            var bytes = MemoryMarshal.AsBytes(values).ToArray();
            ElementFormat.SwapBytes(bytes, tensor.DType.ElementSize());
            destination.Write(bytes);
        }
    }
}
