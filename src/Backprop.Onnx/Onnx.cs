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
/// the first dimension stays symbolic (<c>batch</c>), so the file runs on any batch size. A module it has no ONNX
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
    public static void Export(Module<Tensor, Tensor> model, Tensor sampleInput, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var bytes = ToBytes(model, sampleInput);
        IO.AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>The ONNX file <see cref="Export"/> writes, as bytes.</summary>
    public static byte[] ToBytes(Module<Tensor, Tensor> model, Tensor sampleInput)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(sampleInput);
        if (sampleInput.Rank == 0)
            throw new ArgumentException("ONNX export: the sample input needs a batch dimension; got a scalar.", nameof(sampleInput));
        bool wasTraining = model.IsTraining;
        model.Eval();
        try
        {
            using (Autograd.NoGrad())
            {
                var graph = new OnnxGraphBuilder(model).Build(sampleInput);
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
