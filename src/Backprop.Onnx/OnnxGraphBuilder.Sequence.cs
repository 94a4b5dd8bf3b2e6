using Backprop.Nn;

namespace Backprop.OnnxFormat;

/// <summary>The recurrent layers (as ONNX's LSTM, GRU and RNN operators) and the Transformer encoder (decomposed).</summary>
internal sealed partial class OnnxGraphBuilder
{
    /// <summary>
    /// The graph of a recurrent layer: input [time, batch, features] ([batch, time, features] with batchFirst) to
    /// <c>output</c> (the library's output sequence), <c>hidden</c> [layers·directions, batch, hidden] and, for an LSTM,
    /// <c>cell</c>: the final states, in the library's (PyTorch's) layout. The batch is symbolic; so is nothing else.
    /// </summary>
    public OnnxGraph BuildRecurrent(RecurrentLayer layer, Tensor sample)
    {
        string kind = layer.GetType().Name;
        if (layer.ProjSize > 0)
            throw new OnnxExportException($"ONNX export: {kind} has projSize {layer.ProjSize} (the projection weight_hr), which ONNX's LSTM operator has no form for; export a layer without projSize.");
        if (sample.Rank != 3)
            throw new ArgumentException($"ONNX export: {kind} needs a batched sample ({(layer.BatchFirst ? "[batch, time, features]" : "[time, batch, features]")}); got {sample.Shape}.", nameof(sample));
        // ONNX's gate orders against PyTorch's: LSTM i,o,f,c from i,f,g,o; GRU z,r,h from r,z,n; RNN one gate.
        var (opType, gateOrder) = layer switch
        {
            Lstm => ("LSTM", new[] { 0, 3, 1, 2 }),
            Gru => ("GRU", new[] { 1, 0, 2 }),
            Rnn => ("RNN", new[] { 0 }),
            _ => throw new OnnxExportException($"ONNX export: {kind} is a recurrent layer the exporter does not know; it exports Lstm, Gru and Rnn."),
        };
        int batchAxis = layer.BatchFirst ? 0 : 1, directions = layer.NumDirections;
        var (output, state) = layer.Forward(sample);
        _graph.Inputs.Add(new OnnxValueInfo("input", TypeOf(sample.DType, "the input"), DynamicBatch(sample, batchAxis)));

        var parameters = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in layer.NamedParameters()) parameters[name] = parameter;
        // [directions, gates·hidden, …] in ONNX's gate order, from PyTorch's per-direction tensors.
        Tensor Packed(Func<string, Tensor> perDirection, int layerIndex) => Tensor.Stack(Enumerable.Range(0, directions).Select(d =>
        {
            string suffix = $"_l{layerIndex}{(d == 1 ? "_reverse" : "")}";
            return perDirection(suffix);
        }));
        Tensor Reordered(Tensor weight) =>
            Tensor.Cat(gateOrder.Select(g => weight.Detach().Narrow(0, g * layer.HiddenSize, layer.HiddenSize)));

        string x = layer.BatchFirst ? Node("Transpose", ["input"], attributes: [OnnxAttribute.Ints("perm", 1, 0, 2)]) : "input";
        var hiddens = new List<string>();
        var cells = new List<string>();
        for (int l = 0; l < layer.NumLayers; l++)
        {
            var w = Constant(Packed(s => Reordered(parameters["weight_ih" + s]), l), $"{opType}.W_l{l}");
            var r = Constant(Packed(s => Reordered(parameters["weight_hh" + s]), l), $"{opType}.R_l{l}");
            var b = layer.Bias
                ? Constant(Packed(s => Tensor.Cat([Reordered(parameters["bias_ih" + s]), Reordered(parameters["bias_hh" + s])]), l), $"{opType}.B_l{l}")
                : "";
            var attributes = new List<OnnxAttribute>
            {
                OnnxAttribute.Int("hidden_size", layer.HiddenSize),
                OnnxAttribute.String("direction", directions == 2 ? "bidirectional" : "forward"),
            };
            // PyTorch's GRU applies the reset gate after the recurrent product: r ⊙ (W_hn·h + b_hn).
            if (layer is Gru) attributes.Add(OnnxAttribute.Int("linear_before_reset", 1));
            if (layer is Rnn rnn)
                attributes.Add(OnnxAttribute.Strings("activations",
                    [.. Enumerable.Repeat(rnn.Nonlinearity == RnnNonlinearity.Relu ? "Relu" : "Tanh", directions)]));
            int id = _values++;
            string[] outputs = layer is Lstm ? [$"y_{id}", $"y_h_{id}", $"y_c_{id}"] : [$"y_{id}", $"y_h_{id}"];
            MultiOutputNode(opType, [x, w, r, b], outputs, attributes);
            hiddens.Add(outputs[1]);
            if (layer is Lstm) cells.Add(outputs[2]);
            // Y [time, directions, batch, hidden] → [time, batch, directions·hidden], the next layer's input.
            var perBatch = Node("Transpose", [outputs[0]], attributes: [OnnxAttribute.Ints("perm", 0, 2, 1, 3)]);
            x = Node("Reshape", [perBatch, Int64Constant(0, 0, -1)]);
        }
        if (layer.BatchFirst) x = Node("Transpose", [x], attributes: [OnnxAttribute.Ints("perm", 1, 0, 2)]);
        Node("Identity", [x], "output");
        _graph.Outputs.Add(new OnnxValueInfo("output", TypeOf(output.DType, "the output"), DynamicBatch(output, batchAxis)));
        // Y_h is [directions, batch, hidden] per layer; PyTorch's h_n stacks them layer by layer.
        Node(hiddens.Count == 1 ? "Identity" : "Concat", hiddens, "hidden", hiddens.Count == 1 ? null : [OnnxAttribute.Int("axis", 0)]);
        _graph.Outputs.Add(new OnnxValueInfo("hidden", TypeOf(output.DType, "the state"), DynamicBatch(state.Hidden, 1)));
        if (state.Cell is { } cell)
        {
            Node(cells.Count == 1 ? "Identity" : "Concat", cells, "cell", cells.Count == 1 ? null : [OnnxAttribute.Int("axis", 0)]);
            _graph.Outputs.Add(new OnnxValueInfo("cell", TypeOf(output.DType, "the state"), DynamicBatch(cell, 1)));
        }
        return _graph;
    }

    /// <summary>
    /// The graph of a MultiheadAttention used as self-attention: <c>input</c> (query = key = value) to <c>output</c>, the
    /// attended sequence; the attention weights are not written.
    /// </summary>
    public OnnxGraph BuildSelfAttention(MultiheadAttention attention, Tensor sample)
    {
        if (sample.Rank != 3)
            throw new OnnxExportException($"ONNX export: MultiheadAttention needs a batched sample ([seq, batch, E] or [batch, seq, E]); got {sample.Shape}.");
        int batchAxis = attention.BatchFirst ? 0 : 1;
        var output = attention.Forward(sample, sample, sample, needWeights: false, isCausal: _causalAttention).Output;
        _graph.Inputs.Add(new OnnxValueInfo("input", TypeOf(sample.DType, "the input"), DynamicBatch(sample, batchAxis)));
        var attended = EmitSelfAttention(attention, "input", sample, sample.Size(attention.BatchFirst ? 1 : 0), "MultiheadAttention");
        Node("Identity", [attended], "output");
        _graph.Outputs.Add(new OnnxValueInfo("output", TypeOf(output.DType, "the output"), DynamicBatch(output, batchAxis)));
        return _graph;
    }

    /// <summary>
    /// A Transformer encoder layer from MatMul, Slice, Reshape, Transpose, Softmax and LayerNormalization: self-attention
    /// (causal when the export asks for it) and the feed-forward block, each with its residual sum, norms before
    /// (normFirst) or after. Dropout is identity, as in evaluation mode.
    /// </summary>
    private string EmitEncoderLayer(TransformerEncoderLayer layer, string x, Tensor input, string path)
    {
        if (input.Rank != 3)
            throw new OnnxExportException($"ONNX export: {path} (TransformerEncoderLayer) needs a batched input ([seq, batch, E] or [batch, seq, E]); got {input.Shape}.");
        int sequence = input.Size(layer.SelfAttn.BatchFirst ? 1 : 0);
        string Norm(LayerNorm norm, string value, string name) => EmitLayer(norm, value, input, $"{path}.{name}");
        if (layer.NormFirst)
        {
            x = Node("Add", [x, EmitSelfAttention(layer.SelfAttn, Norm(layer.Norm1, x, "norm1"), input, sequence, path)]);
            return Node("Add", [x, EmitFeedForward(layer, Norm(layer.Norm2, x, "norm2"), input, path)]);
        }
        x = Norm(layer.Norm1, Node("Add", [x, EmitSelfAttention(layer.SelfAttn, x, input, sequence, path)]), "norm1");
        return Norm(layer.Norm2, Node("Add", [x, EmitFeedForward(layer, x, input, path)]), "norm2");
    }

    private string EmitFeedForward(TransformerEncoderLayer layer, string x, Tensor input, string path)
    {
        var hidden = EmitLinear(layer.Linear1, x, input);
        var activated = layer.Activation switch
        {
            TransformerActivation.Relu => Node("Relu", [hidden]),
            TransformerActivation.Gelu => EmitGelu(hidden, input.DType),
            TransformerActivation.GeluTanh => EmitGeluTanh(hidden, input.DType),
            var other => throw new OnnxExportException($"ONNX export: {path} uses the activation {other}, which the exporter does not write."),
        };
        return EmitLinear(layer.Linear2, activated, input);
    }

    /// <summary>Self-attention on x ([seq, batch, E], or [batch, seq, E] batch-first), heads computed as [batch, heads, seq, headDim].</summary>
    private string EmitSelfAttention(MultiheadAttention attention, string x, Tensor input, int sequence, string path)
    {
        if (attention.InProjWeight is not { } packed)
            throw new OnnxExportException($"ONNX export: {path}.self_attn has separate q/k/v projections (kdim or vdim ≠ embedDim); the exporter writes self-attention with the packed in_proj_weight.");
        int e = attention.EmbedDim, heads = attention.NumHeads, headDim = attention.HeadDim;
        var dtype = input.DType;
        var qkv = Node("MatMul", [x, Constant(packed.Detach().T.Contiguous(), Name(packed) + ".T")]);
        if (attention.InProjBias is { } bias) qkv = Node("Add", [qkv, Weight(bias)]);
        long[] toHeads = attention.BatchFirst ? [0, 2, 1, 3] : [1, 2, 0, 3];
        string Heads(int part)
        {
            var slice = Node("Slice", [qkv, Int64Constant(part * e), Int64Constant((part + 1) * e), Int64Constant(-1)]);
            return Node("Transpose", [Node("Reshape", [slice, Int64Constant(0, 0, heads, headDim)])], attributes: [OnnxAttribute.Ints("perm", toHeads)]);
        }
        var (q, k, v) = (Heads(0), Heads(1), Heads(2));
        var keysT = Node("Transpose", [k], attributes: [OnnxAttribute.Ints("perm", 0, 1, 3, 2)]);
        var scores = Node("Mul", [Node("MatMul", [q, keysT]), Scalar(1 / Math.Sqrt(headDim), dtype)]);
        if (_causalAttention)
        {
            // Query i attends keys 0..i: −∞ above the diagonal, a constant [seq, seq] (only the batch is symbolic).
            var mask = new double[sequence * sequence];
            for (int i = 0; i < sequence; i++)
                for (int j = i + 1; j < sequence; j++) mask[i * sequence + j] = double.NegativeInfinity;
            scores = Node("Add", [scores, Constant(Tensor.FromArray(mask, [sequence, sequence]).To(dtype), $"const_{_values++}")]);
        }
        var attended = Node("MatMul", [Node("Softmax", [scores], attributes: [OnnxAttribute.Int("axis", -1)]), v]);
        long[] fromHeads = attention.BatchFirst ? [0, 2, 1, 3] : [2, 0, 1, 3];
        var merged = Node("Reshape", [Node("Transpose", [attended], attributes: [OnnxAttribute.Ints("perm", fromHeads)]), Int64Constant(0, 0, e)]);
        return EmitLinear(attention.OutProj, merged, input);
    }

    /// <summary>x·Φ(x) = 0.5·x·(1 + erf(x/√2)); the Gelu operator arrives only in opset 20.</summary>
    private string EmitGelu(string x, DType dtype)
    {
        var erf = Node("Erf", [Node("Div", [x, Scalar(Math.Sqrt(2), dtype)])]);
        return Node("Mul", [Node("Mul", [x, Scalar(0.5, dtype)]), Node("Add", [erf, Scalar(1, dtype)])]);
    }

    /// <summary>The tanh approximation, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    private string EmitGeluTanh(string x, DType dtype)
    {
        var cube = Node("Mul", [Node("Mul", [x, x]), x]);
        var inner = Node("Mul", [Node("Add", [x, Node("Mul", [cube, Scalar(0.044715, dtype)])]), Scalar(Math.Sqrt(2 / Math.PI), dtype)]);
        var half = Node("Mul", [x, Scalar(0.5, dtype)]);
        return Node("Add", [Node("Mul", [half, Node("Tanh", [inner])]), half]);
    }
}
