using Google.Protobuf;

namespace Backprop.OnnxFormat;

// The few messages of the ONNX schema (onnx.proto, IR version 8) that an exported inference graph needs, written with
// Google.Protobuf's wire-format writer. Field numbers are the schema's; each message is encoded into its own buffer
// and embedded as a length-delimited field, which is exactly how protobuf nests messages.

/// <summary>ONNX element types (TensorProto.DataType).</summary>
internal enum OnnxDataType
{
    Float = 1,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    BFloat16 = 16,
}

internal abstract class OnnxMessage
{
    public abstract void WriteFields(CodedOutputStream output);

    public byte[] ToByteArray()
    {
        using var buffer = new MemoryStream();
        var output = new CodedOutputStream(buffer);
        WriteFields(output);
        output.Flush();
        return buffer.ToArray();
    }

    protected static void WriteMessage(CodedOutputStream output, int field, OnnxMessage message)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(message.ToByteArray()));
    }

    protected static void WriteString(CodedOutputStream output, int field, string value)
    {
        if (value.Length == 0) return;
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    protected static void WriteInt64(CodedOutputStream output, int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
    }

    protected static void WritePackedInt64(CodedOutputStream output, int field, IReadOnlyList<long> values)
    {
        if (values.Count == 0) return;
        using var buffer = new MemoryStream();
        var packed = new CodedOutputStream(buffer);
        foreach (var v in values) packed.WriteInt64(v);
        packed.Flush();
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(buffer.ToArray()));
    }
}

/// <summary>ModelProto: the file.</summary>
internal sealed class OnnxModel(OnnxGraph graph, int opsetVersion, string producerVersion) : OnnxMessage
{
    public const long IrVersion = 8;

    public override void WriteFields(CodedOutputStream output)
    {
        WriteInt64(output, 1, IrVersion);
        WriteString(output, 2, "Backprop");
        WriteString(output, 3, producerVersion);
        WriteMessage(output, 7, graph);
        WriteMessage(output, 8, new OnnxOpsetImport(opsetVersion));
    }
}

/// <summary>OperatorSetIdProto of the default (ai.onnx) domain.</summary>
internal sealed class OnnxOpsetImport(long version) : OnnxMessage
{
    public override void WriteFields(CodedOutputStream output) => WriteInt64(output, 2, version);
}

/// <summary>GraphProto: nodes in topological order, weights as initializers, typed inputs and outputs.</summary>
internal sealed class OnnxGraph(string name) : OnnxMessage
{
    public List<OnnxNode> Nodes { get; } = [];
    public List<OnnxTensor> Initializers { get; } = [];
    public List<OnnxValueInfo> Inputs { get; } = [];
    public List<OnnxValueInfo> Outputs { get; } = [];

    public override void WriteFields(CodedOutputStream output)
    {
        foreach (var node in Nodes) WriteMessage(output, 1, node);
        WriteString(output, 2, name);
        foreach (var tensor in Initializers) WriteMessage(output, 5, tensor);
        foreach (var input in Inputs) WriteMessage(output, 11, input);
        foreach (var o in Outputs) WriteMessage(output, 12, o);
    }
}

/// <summary>NodeProto: one operator call.</summary>
internal sealed class OnnxNode(string opType, string name, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs) : OnnxMessage
{
    public string OpType => opType;
    public List<OnnxAttribute> Attributes { get; } = [];

    public override void WriteFields(CodedOutputStream output)
    {
        foreach (var input in inputs)
        {
            // An empty name is ONNX's way to skip an optional input; it must still be written to keep positions.
            output.WriteTag(1, WireFormat.WireType.LengthDelimited);
            output.WriteString(input);
        }
        foreach (var o in outputs) WriteString(output, 2, o);
        WriteString(output, 3, name);
        WriteString(output, 4, opType);
        foreach (var attribute in Attributes) WriteMessage(output, 5, attribute);
    }
}

/// <summary>AttributeProto of one of the kinds an exported graph uses: float, int, string, ints.</summary>
internal sealed class OnnxAttribute : OnnxMessage
{
    private const int FloatType = 1, IntType = 2, StringType = 3, IntsType = 7, StringsType = 8;
    private readonly string _name;
    private readonly int _type;
    private readonly float _float;
    private readonly long _int;
    private readonly string _string;
    private readonly long[] _ints;
    private readonly string[] _strings;

    private OnnxAttribute(string name, int type, float f = 0, long i = 0, string s = "", long[]? ints = null, string[]? strings = null)
    {
        _name = name;
        _type = type;
        _float = f;
        _int = i;
        _string = s;
        _ints = ints ?? [];
        _strings = strings ?? [];
    }

    public static OnnxAttribute Float(string name, double value) => new(name, FloatType, f: (float)value);

    public static OnnxAttribute Int(string name, long value) => new(name, IntType, i: value);

    public static OnnxAttribute String(string name, string value) => new(name, StringType, s: value);

    public static OnnxAttribute Ints(string name, params long[] values) => new(name, IntsType, ints: values);

    public static OnnxAttribute Strings(string name, params string[] values) => new(name, StringsType, strings: values);

    public override void WriteFields(CodedOutputStream output)
    {
        WriteString(output, 1, _name);
        switch (_type)
        {
            case FloatType:
                output.WriteTag(2, WireFormat.WireType.Fixed32);
                output.WriteFloat(_float);
                break;
            case IntType:
                WriteInt64(output, 3, _int);
                break;
            case StringType:
                WriteString(output, 4, _string);
                break;
            case StringsType:
                foreach (var value in _strings) WriteString(output, 9, value);
                break;
            default:
                WritePackedInt64(output, 8, _ints);
                break;
        }
        WriteInt64(output, 20, _type);
    }
}

/// <summary>TensorProto with its values as little-endian raw bytes.</summary>
internal sealed class OnnxTensor(string name, OnnxDataType type, long[] dims, byte[] rawData) : OnnxMessage
{
    public string Name => name;

    public override void WriteFields(CodedOutputStream output)
    {
        WritePackedInt64(output, 1, dims);
        WriteInt64(output, 2, (long)type);
        WriteString(output, 8, name);
        output.WriteTag(9, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(rawData));
    }
}

/// <summary>
/// ValueInfoProto of a tensor: its name, element type and shape, where a null dimension is symbolic (named
/// <see cref="DynamicDimension"/>), so any batch size runs.
/// </summary>
internal sealed class OnnxValueInfo(string name, OnnxDataType type, IReadOnlyList<long?> shape) : OnnxMessage
{
    public const string DynamicDimension = "batch";

    public override void WriteFields(CodedOutputStream output)
    {
        WriteString(output, 1, name);
        WriteMessage(output, 2, new TypeMessage(type, shape));
    }

    private sealed class TypeMessage(OnnxDataType type, IReadOnlyList<long?> shape) : OnnxMessage
    {
        public override void WriteFields(CodedOutputStream output) => WriteMessage(output, 1, new TensorTypeMessage(type, shape));
    }

    private sealed class TensorTypeMessage(OnnxDataType type, IReadOnlyList<long?> shape) : OnnxMessage
    {
        public override void WriteFields(CodedOutputStream output)
        {
            WriteInt64(output, 1, (long)type);
            WriteMessage(output, 2, new ShapeMessage(shape));
        }
    }

    private sealed class ShapeMessage(IReadOnlyList<long?> shape) : OnnxMessage
    {
        public override void WriteFields(CodedOutputStream output)
        {
            foreach (var dim in shape) WriteMessage(output, 1, new DimensionMessage(dim));
        }
    }

    private sealed class DimensionMessage(long? value) : OnnxMessage
    {
        public override void WriteFields(CodedOutputStream output)
        {
            if (value is { } v) WriteInt64(output, 1, v);
            else WriteString(output, 2, DynamicDimension);
        }
    }
}
