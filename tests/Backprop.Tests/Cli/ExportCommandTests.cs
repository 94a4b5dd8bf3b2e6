using Backprop.Cli.Training;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Tests.IO;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Tests.Cli;

[Collection(nameof(CliRunner))]
public class ExportCommandTests
{
    private static float[] Run(string onnxPath, float[] values, int[] dims)
    {
        using var session = new InferenceSession(onnxPath);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(values, dims))]);
        return results.Single().AsTensor<float>().ToArray();
    }

    [Fact]
    public void A_trained_classifier_exports_and_runs_in_onnx_runtime_with_the_same_outputs()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, CliRunner.Run("train", "moons", "--epochs", "2", "--out", dir.FullName).ExitCode);
        var (code, output) = CliRunner.Run("export", "--model", dir.FullName, "--onnx", dir.File("moons.onnx"));
        Assert.True(code == 0, output);
        Assert.Contains("input [batch, 2]", output);

        var network = Classifier.Load(dir.File("model.safetensors")).Network;
        var x = Tensor.Randn([7, 2], generator: new Generator(3));
        float[] expected;
        using (Autograd.NoGrad()) expected = network.Forward(x).ToArray<float>();
        var actual = Run(dir.File("moons.onnx"), x.ToArray<float>(), [7, 2]);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"{actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void A_model_file_exports_given_its_input_shape()
    {
        using var dir = new TempDirectory();
        var model = new Sequential(new Conv2d(1, 2, 3, generator: new Generator(1)), new Relu(), new Flatten());
        ModelFile.Save(model, dir.File("conv.safetensors"));

        var (missingCode, missingOutput) = CliRunner.Run("export", "--model", dir.File("conv.safetensors"), "--onnx", dir.File("conv.onnx"));
        Assert.Equal(2, missingCode);
        Assert.Contains("--input-shape", missingOutput);

        var (code, output) = CliRunner.Run("export", "--model", dir.File("conv.safetensors"), "--onnx", dir.File("conv.onnx"), "--input-shape", "1,5,5");
        Assert.True(code == 0, output);
        var x = Tensor.Randn([2, 1, 5, 5], generator: new Generator(2));
        model.Eval();
        float[] expected;
        using (Autograd.NoGrad()) expected = model.Forward(x).ToArray<float>();
        var actual = Run(dir.File("conv.onnx"), x.ToArray<float>(), [2, 1, 5, 5]);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"{actual[i]} vs {expected[i]}");
    }
}
