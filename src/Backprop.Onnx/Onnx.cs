using Backprop.Nn;
using Backprop.OnnxFormat;

namespace Backprop;

/// <summary>
/// Exports a model as an ONNX inference graph (opset 17, IR version 8) that ONNX Runtime and other ONNX tools run.
/// </summary>
/// <remarks>
/// The exporter walks the module tree — <see cref="Sequential"/>, <see cref="Residual"/> and the library's layers — and
/// writes each layer as the ONNX operators that compute it, with the model's state-dict names on the weights. It runs
/// the model once on <c>sampleInput</c> (in evaluation mode, without a graph) to learn every intermediate shape;
/// the batch dimension stays symbolic (<c>batch</c>; dimension 1 for sequence-first Transformer layers), so the file
/// runs on any batch size. Transformer encoder layers and stacks are decomposed into MatMul, Softmax and
/// LayerNormalization; the recurrent layers and a self-attention <see cref="MultiheadAttention"/>, which return more
/// than one tensor, have their own overloads. A module it has no ONNX
/// form for (a user's own <c>ForwardCore</c>, which the exporter cannot see into) fails with
/// <see cref="OnnxExportException"/> naming the module, never a silently wrong graph. Dropout exports as identity and
/// batch normalisation with its running statistics, as in evaluation mode.
/// </remarks>
public static class Onnx
{
    /// <summary>The operator set exported graphs use.</summary>
    public const int Opset = 17;

    /// <summary>Writes <paramref name="model"/> to <paramref name="path"/> (atomically: a finished file or none).</summary>
    /// <param name="sampleInput">An input of the shape the model takes (any batch size); Int64 indices for embeddings.</param>
    /// <param name="causalAttention">
    /// Export the Transformer encoder layers' self-attention as causal (what <c>Forward(src, null, isCausal: true)</c>
    /// computes); false exports it unmasked, as <c>Forward(src)</c>. Other masks have no export: they are inputs the
    /// module's one-tensor forward does not take.
    /// </param>
    public static void Export(Module<Tensor, Tensor> model, Tensor sampleInput, string path, bool causalAttention = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(model, sampleInput, causalAttention);
        IO.AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>The ONNX file <see cref="Export(Module{Tensor, Tensor}, Tensor, string, bool)"/> writes, as bytes.</summary>
    public static byte[] ToBytes(Module<Tensor, Tensor> model, Tensor sampleInput, bool causalAttention = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ToBytes(model, sampleInput, () => new OnnxGraphBuilder(model, causalAttention).Build(model, sampleInput));
    }

    /// <summary>
    /// Writes a recurrent layer (<see cref="Lstm"/>, <see cref="Gru"/>, <see cref="Rnn"/>; uni- or bidirectional, any
    /// number of layers, batch-first or not) as ONNX's LSTM, GRU and RNN operators, one per layer. The graph maps
    /// <c>input</c> (shaped as <paramref name="sampleInput"/>, batch symbolic) to <c>output</c>, the layer's output
    /// sequence, and to its final states <c>hidden</c> [layers·directions, batch, hidden] and, for an LSTM, <c>cell</c>,
    /// starting from zero states. An LSTM with <c>projSize</c> has no ONNX form and fails naming it.
    /// </summary>
    public static void Export(RecurrentLayer layer, Tensor sampleInput, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(layer, sampleInput);
        IO.AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>The ONNX file <see cref="Export(RecurrentLayer, Tensor, string)"/> writes, as bytes.</summary>
    public static byte[] ToBytes(RecurrentLayer layer, Tensor sampleInput)
    {
        ArgumentNullException.ThrowIfNull(layer);
        return ToBytes(layer, sampleInput, () => new OnnxGraphBuilder(layer).BuildRecurrent(layer, sampleInput));
    }

    /// <summary>
    /// Writes a <see cref="MultiheadAttention"/> used as self-attention (query, key and value the one input, shaped as
    /// <paramref name="sampleInput"/>, batch symbolic): <c>output</c> is what <c>Forward(x, x, x, needWeights: false,
    /// isCausal: causalAttention)</c> returns. The attention weights are not exported; key-padding and explicit masks
    /// have no export.
    /// </summary>
    public static void Export(MultiheadAttention attention, Tensor sampleInput, string path, bool causalAttention = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(attention, sampleInput, causalAttention);
        IO.AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>The ONNX file <see cref="Export(MultiheadAttention, Tensor, string, bool)"/> writes, as bytes.</summary>
    public static byte[] ToBytes(MultiheadAttention attention, Tensor sampleInput, bool causalAttention = false)
    {
        ArgumentNullException.ThrowIfNull(attention);
        return ToBytes(attention, sampleInput, () => new OnnxGraphBuilder(attention, causalAttention).BuildSelfAttention(attention, sampleInput));
    }

    private static byte[] ToBytes(Module model, Tensor sampleInput, Func<OnnxGraph> build)
    {
        ArgumentNullException.ThrowIfNull(sampleInput);
        if (sampleInput.Rank == 0)
            throw new ArgumentException("ONNX export: the sample input needs a batch dimension; got a scalar.", nameof(sampleInput));
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            using (Autograd.NoGrad())
            {
                var graph = build();
                var version = typeof(Onnx).Assembly.GetName().Version?.ToString(3) ?? "";
                return new OnnxModel(graph, Opset, version).ToByteArray();
            }
        }
        finally
        {
            if (wasTraining) model.Train();
        }
    }
}

/// <summary>Thrown when a model holds a module or setting that has no ONNX form.</summary>
public sealed class OnnxExportException(string message) : Exception(message);
