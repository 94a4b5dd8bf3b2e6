using System.Globalization;
using Backprop.Cli.Training;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop export --model DIR|FILE --onnx FILE</c>: writes a saved model as an ONNX file for ONNX Runtime and other
/// ONNX tools. Takes a model saved by <c>backprop train … --out DIR</c> (its input shape is in the file) or by
/// <c>ModelFile.Save</c> (give <c>--input-shape</c>).
/// </summary>
public static class ExportCommand
{
    public const string HelpText = """
        backprop export --model DIR|FILE --onnx FILE [--input-shape D1,D2,…] [--int64-input]

          --model DIR|FILE   a model.safetensors written by `backprop train … --out DIR` (or that DIR), or a file written by ModelFile.Save
          --onnx FILE        where to write the ONNX file (opset 17; the batch dimension is symbolic)
          --input-shape      the shape of one input sample, without the batch dimension (ModelFile models only)
          --int64-input      the model takes Int64 indices (embeddings) rather than Float32 values
        """;

    public static int Run(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.Out.Write(HelpText);
            return 0;
        }
        var options = new CliArguments("export", args, new HashSet<string> { "model", "onnx", "input-shape" }, new HashSet<string> { "int64-input" });
        var modelPath = options.String("model") ?? throw Usage("say which model: --model DIR|FILE.");
        var onnxPath = options.String("onnx") ?? throw Usage("say where to write: --onnx FILE.");
        if (Directory.Exists(modelPath)) modelPath = Path.Combine(modelPath, RunOutputs.ModelFile);
        if (!File.Exists(modelPath)) throw Usage($"the model file '{modelPath}' does not exist.");

        Module<Tensor, Tensor> network;
        int[] sampleShape;
        string? note = null;
        if (SafeTensors.Load(modelPath).Metadata.GetValueOrDefault("backprop.format") == ModelFile.Format)
        {
            network = ModelFile.Load(modelPath);
            sampleShape = ParseShape(options.String("input-shape")
                ?? throw Usage("a ModelFile model does not record its input shape: give --input-shape (one sample, e.g. 1,28,28)."));
        }
        else
        {
            var classifier = Classifier.Load(modelPath);
            network = classifier.Network;
            sampleShape = [.. classifier.Architecture.InputShape];
            if (classifier.Transform == InputTransform.MnistStandardize)
                note = "the graph takes images as the network does: pixels scaled to [0, 1], then standardised as (x − 0.1307) / 0.3081.";
        }
        var sample = options.Flag("int64-input") ? Tensor.Zeros([1, .. sampleShape], DType.Int64) : Tensor.Zeros([1, .. sampleShape]);
        Backprop.Onnx.Export(network, sample, onnxPath);
        Console.WriteLine($"wrote {onnxPath}: ONNX opset {Backprop.Onnx.Opset}, input [batch, {string.Join(", ", sampleShape)}]");
        if (note is not null) Console.WriteLine($"note: {note}");
        return 0;
    }

    private static int[] ParseShape(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]) || shape[i] <= 0)
                throw Usage($"--input-shape '{text}' is not a list of positive sizes such as 1,28,28.");
        return shape;
    }

    private static UsageException Usage(string message) => new($"backprop export: {message}\n\n{HelpText}");
}
