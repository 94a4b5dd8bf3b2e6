using System.Globalization;
using System.Runtime.InteropServices;
using Backprop.Nn;

namespace Backprop.OnnxFormat;

/// <summary>
/// Builds the ONNX graph of a module tree: each module is run on the value that reaches it (so every shape is known)
/// and written as the operators that compute it. Value names are <c>input</c>, <c>output</c> and one name per
/// intermediate result; weights keep their state-dict names.
/// </summary>
internal sealed partial class OnnxGraphBuilder
{
    private const string Supported = "Sequential, Residual, Identity, Linear, Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, " +
        "AdaptiveAvgPool2d, BatchNorm1d, BatchNorm2d, LayerNorm, GroupNorm, Dropout, Dropout2d, Embedding, Flatten, Upsample, " +
        "Relu, LeakyRelu, Elu, Gelu, Sigmoid, Tanh, Silu, Softplus, Softmax, LogSoftmax, TransformerEncoderLayer, TransformerEncoder " +
        "(and Lstm, Gru, Rnn through Onnx.Export's recurrent overload)";

    private readonly Dictionary<Tensor, string> _names = new(ReferenceEqualityComparer.Instance);
    private readonly OnnxGraph _graph = new("backprop");
    private readonly HashSet<string> _initializers = [];
    private readonly bool _causalAttention;
    private int _values;

    /// <param name="causalAttention">Whether the Transformer layers' self-attention is causal (query i attends keys 0..i).</param>
    public OnnxGraphBuilder(Module model, bool causalAttention = false)
    {
        _causalAttention = causalAttention;
        foreach (var (name, parameter) in model.NamedParameters()) _names.TryAdd(parameter, name);
        foreach (var (name, buffer) in model.NamedBuffers()) _names.TryAdd(buffer, name);
    }

    public OnnxGraph Build(Module<Tensor, Tensor> model, Tensor sample)
    {
        int batchAxis = BatchAxis(model);
        if (sample.Rank <= batchAxis)
            throw new ArgumentException($"ONNX export: {model.GetType().Name} takes its batch on dimension {batchAxis}; the sample {sample.Shape} has none.", nameof(sample));
        _graph.Inputs.Add(new OnnxValueInfo("input", TypeOf(sample.DType, "the input"), DynamicBatch(sample, batchAxis)));
        var (name, value) = Emit(model, "input", sample, model.GetType().Name);
        // The graph's output needs its own name; an Identity keeps the last operator's output name free.
        Node("Identity", [name], "output");
        _graph.Outputs.Add(new OnnxValueInfo("output", TypeOf(value.DType, "the output"), DynamicBatch(value, batchAxis)));
        return _graph;
    }

    /// <summary>
    /// Where the batch lies: dimension 1 when the model's Transformer layers are sequence-first ([seq, batch, E]), else
    /// 0. The first Transformer layer met in the module tree decides (an Embedding before it takes [seq, batch] too).
    /// </summary>
    private static int BatchAxis(Module<Tensor, Tensor> model) => FirstAttentionLayout(model) is false ? 1 : 0;

    /// <summary>The BatchFirst of the first Transformer layer in the tree, or null when it has none.</summary>
    private static bool? FirstAttentionLayout(Module<Tensor, Tensor> model) => model switch
    {
        Sequential sequential => Enumerable.Range(0, sequential.Count).Select(i => FirstAttentionLayout(sequential[i])).FirstOrDefault(b => b is not null),
        Residual residual => FirstAttentionLayout(residual.Body),
        TransformerEncoderLayer layer => layer.SelfAttn.BatchFirst,
        TransformerEncoder encoder => encoder.Layers[0].SelfAttn.BatchFirst,
        _ => null,
    };

    private (string Name, Tensor Value) Emit(Module<Tensor, Tensor> module, string x, Tensor input, string path)
    {
        switch (module)
        {
            case Sequential sequential:
                for (int i = 0; i < sequential.Count; i++)
                    (x, input) = Emit(sequential[i], x, input, $"{path}.{i} ({sequential[i].GetType().Name})");
                return (x, input);
            case Residual residual:
            {
                var (body, bodyValue) = Emit(residual.Body, x, input, $"{path}.body");
                var (skip, skipValue) = residual.Shortcut is { } shortcut ? Emit(shortcut, x, input, $"{path}.shortcut") : (x, input);
                return (Node("Add", [body, skip]), bodyValue + skipValue);
            }
        }
        var output = module.Forward(input);
        return (EmitLayer(module, x, input, path), output);
    }

    private string EmitLayer(Module<Tensor, Tensor> module, string x, Tensor input, string path)
    {
        switch (module)
        {
            case Identity or Dropout or Dropout2d:
                return Node("Identity", [x]);
            case Relu:
                return Node("Relu", [x]);
            case Sigmoid:
                return Node("Sigmoid", [x]);
            case Tanh:
                return Node("Tanh", [x]);
            case LeakyRelu leaky:
                return Node("LeakyRelu", [x], attributes: [OnnxAttribute.Float("alpha", leaky.NegativeSlope)]);
            case Elu elu:
                return Node("Elu", [x], attributes: [OnnxAttribute.Float("alpha", elu.Alpha)]);
            case Silu:
                return Node("Mul", [x, Node("Sigmoid", [x])]);
            case Gelu:
                return EmitGelu(x, input.DType);
            case TransformerEncoderLayer layer:
                return EmitEncoderLayer(layer, x, input, path);
            case TransformerEncoder encoder:
            {
                for (int i = 0; i < encoder.Layers.Count; i++)
                    x = EmitEncoderLayer(encoder.Layers[i], x, input, $"{path}.layers.{i}");
                return encoder.Norm is { } norm ? EmitLayer(norm, x, input, $"{path}.norm") : x;
            }
            case Softplus softplus:
                if (softplus.Beta == 1) return Node("Softplus", [x]);
                var beta = Scalar(softplus.Beta, input.DType);
                return Node("Div", [Node("Softplus", [Node("Mul", [x, beta])]), beta]);
            case Softmax softmax:
                return Node("Softmax", [x], attributes: [OnnxAttribute.Int("axis", softmax.Dim)]);
            case LogSoftmax logSoftmax:
                return Node("LogSoftmax", [x], attributes: [OnnxAttribute.Int("axis", logSoftmax.Dim)]);
            case Linear linear:
                return EmitLinear(linear, x, input);
            case Conv1d conv:
                return Node("Conv", [x, Weight(conv.Weight), .. Optional(conv.Bias)], attributes:
                [
                    OnnxAttribute.Ints("kernel_shape", conv.KernelSize), OnnxAttribute.Ints("strides", conv.Stride),
                    OnnxAttribute.Ints("pads", conv.Padding, conv.Padding), OnnxAttribute.Ints("dilations", conv.Dilation),
                    OnnxAttribute.Int("group", conv.Groups),
                ]);
            case Conv2d conv:
                return Node("Conv", [x, Weight(conv.Weight), .. Optional(conv.Bias)], attributes:
                [
                    Pair("kernel_shape", conv.KernelSize), Pair("strides", conv.Stride), Pads(conv.Padding),
                    Pair("dilations", conv.Dilation), OnnxAttribute.Int("group", conv.Groups),
                ]);
            case ConvTranspose2d conv:
                return Node("ConvTranspose", [x, Weight(conv.Weight), .. Optional(conv.Bias)], attributes:
                [
                    Pair("kernel_shape", conv.KernelSize), Pair("strides", conv.Stride), Pads(conv.Padding),
                    Pair("output_padding", conv.OutputPadding), Pair("dilations", conv.Dilation), OnnxAttribute.Int("group", conv.Groups),
                ]);
            case MaxPool2d pool:
                return Node("MaxPool", [x], attributes:
                [
                    Pair("kernel_shape", pool.KernelSize), Pair("strides", pool.Stride), Pads(pool.Padding),
                    Pair("dilations", pool.Dilation), OnnxAttribute.Int("ceil_mode", pool.CeilMode ? 1 : 0),
                ]);
            case AvgPool2d pool:
                return Node("AveragePool", [x], attributes:
                [
                    Pair("kernel_shape", pool.KernelSize), Pair("strides", pool.Stride), Pads(pool.Padding),
                    OnnxAttribute.Int("ceil_mode", pool.CeilMode ? 1 : 0), OnnxAttribute.Int("count_include_pad", pool.CountIncludePad ? 1 : 0),
                ]);
            case AdaptiveAvgPool2d adaptive:
                return EmitAdaptiveAvgPool(adaptive, x, input, path);
            case BatchNormBase norm:
                if (norm.RunningMean is not { } mean || norm.RunningVar is not { } variance)
                    throw new OnnxExportException($"ONNX export: {path} keeps no running statistics (trackRunningStats: false), so its evaluation-mode output depends on the batch; ONNX's BatchNormalization needs them.");
                return Node("BatchNormalization",
                    [x, WeightOr(norm.Weight, 1, norm.NumFeatures, input.DType), WeightOr(norm.Bias, 0, norm.NumFeatures, input.DType), Weight(mean), Weight(variance)],
                    attributes: [OnnxAttribute.Float("epsilon", norm.Eps)]);
            case LayerNorm norm:
            {
                int features = norm.NormalizedShape.Aggregate(1, (a, b) => a * b);
                return Node("LayerNormalization",
                    [x, WeightOr(norm.Weight, 1, features, input.DType, norm.NormalizedShape), WeightOr(norm.Bias, 0, features, input.DType, norm.NormalizedShape)],
                    attributes: [OnnxAttribute.Int("axis", -norm.NormalizedShape.Count), OnnxAttribute.Float("epsilon", norm.Eps)]);
            }
            case GroupNorm norm:
                return EmitGroupNorm(norm, x, input);
            case Embedding embedding:
                return Node("Gather", [Weight(embedding.Weight), x]);
            case Flatten flatten:
                return EmitFlatten(flatten, x, input);
            case Upsample:
            {
                var output = module.Forward(input);
                var scales = new double[input.Rank];
                for (int d = 0; d < input.Rank; d++) scales[d] = (double)output.Size(d) / input.Size(d);
                // PyTorch's nearest: source index floor(i · in/out), which is ONNX's asymmetric transform with floor.
                return Node("Resize", [x, "", FloatConstant(scales)], attributes:
                [
                    OnnxAttribute.String("mode", "nearest"), OnnxAttribute.String("coordinate_transformation_mode", "asymmetric"),
                    OnnxAttribute.String("nearest_mode", "floor"),
                ]);
            }
            default:
                throw new OnnxExportException(
                    $"ONNX export: {path} is a {module.GetType().Name}, which has no ONNX form. Supported modules: {Supported}.");
        }
    }

    private string EmitLinear(Linear linear, string x, Tensor input)
    {
        if (input.Rank == 2)
            return Node("Gemm", [x, Weight(linear.Weight), .. Optional(linear.Bias)], attributes: [OnnxAttribute.Int("transB", 1)]);
        // Gemm takes matrices only; any other rank multiplies by the stored transpose.
        var product = Node("MatMul", [x, Constant(linear.Weight.Detach().T.Contiguous(), Name(linear.Weight) + ".T")]);
        return linear.Bias is { } bias ? Node("Add", [product, Weight(bias)]) : product;
    }

    private string EmitAdaptiveAvgPool(AdaptiveAvgPool2d pool, string x, Tensor input, string path)
    {
        var (outH, outW) = (pool.OutputSize.Height, pool.OutputSize.Width);
        long h = input.Size(-2), w = input.Size(-1);
        if (outH == 1 && outW == 1) return Node("GlobalAveragePool", [x]);
        if (h % outH != 0 || w % outW != 0)
            throw new OnnxExportException($"ONNX export: {path} pools {h}×{w} maps to {outH}×{outW}; ONNX has fixed windows, so the map size must be a multiple of the output size.");
        long kh = h / outH, kw = w / outW;
        return Node("AveragePool", [x], attributes: [OnnxAttribute.Ints("kernel_shape", kh, kw), OnnxAttribute.Ints("strides", kh, kw)]);
    }

    /// <summary>GroupNormalization (per-group statistics, per-channel affine) from opset-17 primitives.</summary>
    private string EmitGroupNorm(GroupNorm norm, string x, Tensor input)
    {
        var grouped = Node("Reshape", [x, Int64Constant(0, norm.NumGroups, -1)]);
        var mean = Node("ReduceMean", [grouped], attributes: [OnnxAttribute.Ints("axes", 2), OnnxAttribute.Int("keepdims", 1)]);
        var centred = Node("Sub", [grouped, mean]);
        var variance = Node("ReduceMean", [Node("Mul", [centred, centred])], attributes: [OnnxAttribute.Ints("axes", 2), OnnxAttribute.Int("keepdims", 1)]);
        var normalized = Node("Div", [centred, Node("Sqrt", [Node("Add", [variance, Scalar(norm.Eps, input.DType)])])]);
        var restored = Node("Reshape", [normalized, Node("Shape", [x])]);
        if (norm.Weight is null && norm.Bias is null) return restored;
        // Per-channel [C] weights broadcast as [C, 1, …, 1] against [N, C, …].
        long[] channelShape = [norm.NumChannels, .. Enumerable.Repeat(1L, input.Rank - 2)];
        var result = restored;
        if (norm.Weight is { } weight) result = Node("Mul", [result, Node("Reshape", [Weight(weight), Int64Constant(channelShape)])]);
        if (norm.Bias is { } bias) result = Node("Add", [result, Node("Reshape", [Weight(bias), Int64Constant(channelShape)])]);
        return result;
    }

    private string EmitFlatten(Flatten flatten, string x, Tensor input)
    {
        int start = flatten.StartDim < 0 ? flatten.StartDim + input.Rank : flatten.StartDim;
        int end = flatten.EndDim < 0 ? flatten.EndDim + input.Rank : flatten.EndDim;
        if (start == 1 && end == input.Rank - 1) return Node("Flatten", [x], attributes: [OnnxAttribute.Int("axis", 1)]);
        // Dimensions before the flattened run are copied (0 keeps the batch symbolic), the run becomes one, the rest stay.
        var shape = new List<long>();
        for (int d = 0; d < start; d++) shape.Add(0);
        long run = 1;
        for (int d = start; d <= end; d++) run *= input.Size(d);
        shape.Add(start == 0 ? -1 : run);
        for (int d = end + 1; d < input.Rank; d++) shape.Add(input.Size(d));
        return Node("Reshape", [x, Int64Constant([.. shape])]);
    }

    // ---- graph pieces ----

    private string Node(string opType, IReadOnlyList<string> inputs, string? output = null, IReadOnlyList<OnnxAttribute>? attributes = null)
    {
        output ??= $"{opType.ToLowerInvariant()}_{_values++}";
        return MultiOutputNode(opType, inputs, [output], attributes)[0];
    }

    /// <summary>An operator with several outputs (the recurrent ones'), named after its first.</summary>
    private string[] MultiOutputNode(string opType, IReadOnlyList<string> inputs, string[] outputs, IReadOnlyList<OnnxAttribute>? attributes = null)
    {
        var node = new OnnxNode(opType, outputs[0], inputs, outputs);
        if (attributes is not null) node.Attributes.AddRange(attributes);
        _graph.Nodes.Add(node);
        return outputs;
    }

    private string Name(Tensor tensor) => _names.TryGetValue(tensor, out var name)
        ? name
        : throw new OnnxExportException("ONNX export: a layer holds a weight that is not among the model's parameters or buffers.");

    /// <summary>A parameter or buffer as an initializer under its state-dict name (written once however often it is used).</summary>
    private string Weight(Tensor tensor) => Constant(tensor, Name(tensor));

    private string[] Optional(Tensor? bias) => bias is null ? [] : [Weight(bias)];

    private string WeightOr(Tensor? weight, double fill, int count, DType dtype, IReadOnlyList<int>? shape = null) =>
        weight is not null ? Weight(weight) : Constant(Tensor.Full(shape is null ? [count] : [.. shape], fill, dtype), $"const_{_values++}");

    private string Scalar(double value, DType dtype) => Constant(Tensor.Full([], value, dtype), $"const_{_values++}");

    private string FloatConstant(double[] values) =>
        Constant(Tensor.FromArray(values.Select(v => (float)v).ToArray()), $"const_{_values++}");

    private string Int64Constant(params long[] values) => Constant(Tensor.FromArray(values), $"const_{_values++}");

    private string Constant(Tensor value, string name)
    {
        if (!_initializers.Add(name)) return name;
        var contiguous = value.Detach().Contiguous();
        byte[] raw = contiguous.DType switch
        {
            DType.Float32 => MemoryMarshal.AsBytes(contiguous.ToArray<float>().AsSpan()).ToArray(),
            DType.Float64 => MemoryMarshal.AsBytes(contiguous.ToArray<double>().AsSpan()).ToArray(),
            DType.Int64 => MemoryMarshal.AsBytes(contiguous.ToArray<long>().AsSpan()).ToArray(),
            DType.Int32 => MemoryMarshal.AsBytes(contiguous.ToArray<int>().AsSpan()).ToArray(),
            var other => throw new OnnxExportException($"ONNX export: the weight '{name}' is {other}; export supports Float32, Float64, Int32 and Int64 weights."),
        };
        long[] dims = [.. Enumerable.Range(0, contiguous.Rank).Select(d => (long)contiguous.Size(d))];
        _graph.Initializers.Add(new OnnxTensor(name, TypeOf(contiguous.DType, name), dims, raw));
        return name;
    }

    private static OnnxAttribute Pair(string name, Size2d size) => OnnxAttribute.Ints(name, size.Height, size.Width);

    private static OnnxAttribute Pads(Size2d padding) => OnnxAttribute.Ints("pads", padding.Height, padding.Width, padding.Height, padding.Width);

    private static long?[] DynamicBatch(Tensor value, int batchAxis) =>
        [.. Enumerable.Range(0, value.Rank).Select(d => d == batchAxis ? null : (long?)value.Size(d))];

    private static OnnxDataType TypeOf(DType dtype, string what) => dtype switch
    {
        DType.Float32 => OnnxDataType.Float,
        DType.Float64 => OnnxDataType.Double,
        DType.Int64 => OnnxDataType.Int64,
        DType.Int32 => OnnxDataType.Int32,
        DType.Bool => OnnxDataType.Bool,
        _ => throw new OnnxExportException($"ONNX export: {what} is {dtype}, which the exporter does not write."),
    };

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{_graph.Nodes.Count} nodes");
}
