using Backprop.Nn;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Tests.Onnx;

/// <summary>
/// Exported files run in ONNX Runtime and agree with the library's own forward pass, on a batch size other than the
/// sample's (the batch dimension is symbolic).
/// </summary>
public class OnnxExportTests
{
    private const double Tolerance = 1e-5;

    private static float[] RunInOnnxRuntime(byte[] model, Tensor input)
    {
        using var session = new InferenceSession(model);
        int[] dims = [.. Enumerable.Range(0, input.Rank).Select(d => input.Size(d))];
        NamedOnnxValue value = input.DType == DType.Int64
            ? NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(input.Contiguous().ToArray<long>(), dims))
            : NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input.Contiguous().ToArray<float>(), dims));
        using var results = session.Run([value]);
        return results.Single(r => r.Name == "output").AsTensor<float>().ToArray();
    }

    private static void AssertAgrees(Module<Tensor, Tensor> model, Tensor sample, Tensor input)
    {
        var bytes = Backprop.Onnx.ToBytes(model, sample);
        model.Eval();
        float[] expected;
        using (Autograd.NoGrad()) expected = model.Forward(input).Contiguous().ToArray<float>();
        var actual = RunInOnnxRuntime(bytes, input);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= Tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"element {i}: ONNX Runtime {actual[i]}, Backprop {expected[i]}");
    }

    [Fact]
    public void MnistMlpAgreesWithOnnxRuntime()
    {
        var g = new Generator(1);
        var model = new Sequential(new Linear(784, 256, generator: g), new Relu(), new Linear(256, 128, generator: g), new Relu(),
            new Linear(128, 10, generator: g));
        AssertAgrees(model, Tensor.Randn([2, 784], generator: g), Tensor.Randn([5, 784], generator: g));
    }

    [Fact]
    public void MnistCnnAgreesWithOnnxRuntime()
    {
        var g = new Generator(2);
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1, generator: g), new Relu(), new MaxPool2d(2),
            new Conv2d(8, 16, 3, padding: 1, generator: g), new Relu(), new MaxPool2d(2),
            new Flatten(), new Linear(16 * 7 * 7, 10, generator: g));
        AssertAgrees(model, Tensor.Randn([1, 1, 28, 28], generator: g), Tensor.Randn([3, 1, 28, 28], generator: g));
    }

    [Fact]
    public void ResidualCnnWithBatchNormAgreesWithOnnxRuntime()
    {
        var g = new Generator(3);
        Sequential Block(int channels) => new(
            new Conv2d(channels, channels, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(channels), new Relu(),
            new Conv2d(channels, channels, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(channels));
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1, bias: false, generator: g), new BatchNorm2d(8), new Relu(),
            new Residual(Block(8)), new Relu(),
            new Residual(new Sequential(new Conv2d(8, 16, 3, stride: 2, padding: 1, generator: g), new BatchNorm2d(16)),
                shortcut: new Conv2d(8, 16, 1, stride: 2, generator: g)),
            new Relu(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(16, 10, generator: g));
        // Running statistics away from their initial 0 and 1, so the export must carry the learned ones.
        model.Train();
        for (int i = 0; i < 3; i++) model.Forward(Tensor.Randn([8, 1, 16, 16], generator: g) * 2 + 0.5);
        AssertAgrees(model, Tensor.Randn([2, 1, 16, 16], generator: g), Tensor.Randn([4, 1, 16, 16], generator: g));
        Assert.NotEqual(0f, ((BatchNorm2d)model[1]).RunningMean!.Abs().Sum().Item<float>());
    }

    [Fact]
    public void NormalizationAndActivationLayersAgreeWithOnnxRuntime()
    {
        var g = new Generator(4);
        var model = new Sequential(
            new Conv2d(3, 8, 3, padding: 1, generator: g), new GroupNorm(2, 8), new Gelu(),
            new ConvTranspose2d(8, 4, 2, stride: 2, generator: g), new LeakyRelu(0.1), new AvgPool2d(2),
            new Upsample(scaleFactor: 2), new Elu(0.7), new Dropout2d(0.3), new MaxPool2d(2, stride: 1, padding: 1),
            new Flatten(), new Linear(4 * 17 * 17, 32, generator: g), new LayerNorm(32), new Silu(), new Dropout(0.5),
            new Linear(32, 16, generator: g), new Softplus(2), new Tanh(), new Linear(16, 6, generator: g), new LogSoftmax(1));
        AssertAgrees(model, Tensor.Randn([1, 3, 8, 8], generator: g), Tensor.Randn([3, 3, 8, 8], generator: g));
    }

    [Fact]
    public void SequenceLayersAgreeWithOnnxRuntime()
    {
        var g = new Generator(5);
        var model = new Sequential(new Embedding(20, 8, generator: g), new Linear(8, 12, generator: g), new Sigmoid(),
            new Flatten(1, 2), new Linear(5 * 12, 4, generator: g), new Softmax(-1));
        AssertAgrees(model, Tensor.RandInt(0, 20, [2, 5], generator: g), Tensor.RandInt(0, 20, [6, 5], generator: g));
    }

    [Fact]
    public void Conv1dAgreesWithOnnxRuntime()
    {
        var g = new Generator(6);
        var model = new Sequential(new Conv1d(2, 4, 3, stride: 2, padding: 1, dilation: 1, generator: g), new Relu(), new Flatten());
        AssertAgrees(model, Tensor.Randn([1, 2, 9], generator: g), Tensor.Randn([4, 2, 9], generator: g));
    }

    private sealed class Doubler : Module<Tensor, Tensor>
    {
        protected override Tensor ForwardCore(Tensor input) => input * 2;
    }

    [Fact]
    public void UnsupportedModuleFailsNamingIt()
    {
        var model = new Sequential(new Linear(3, 3), new Doubler());
        var error = Assert.Throws<OnnxExportException>(() => Backprop.Onnx.ToBytes(model, Tensor.Zeros([1, 3])));
        Assert.Contains("Doubler", error.Message);
        Assert.Contains("Sequential.1", error.Message);
    }

    [Fact]
    public void ExportLeavesTheModelInItsModeAndWritesAtomically()
    {
        var model = new Sequential(new Linear(3, 2), new Dropout(0.5));
        var path = Path.Combine(Path.GetTempPath(), $"backprop-onnx-{Guid.NewGuid():N}.onnx");
        try
        {
            Backprop.Onnx.Export(model, Tensor.Zeros([1, 3]), path);
            Assert.True(model.IsTraining);
            using var session = new InferenceSession(path);
            Assert.Equal("batch", session.InputMetadata["input"].SymbolicDimensions[0]);
            Assert.Equal(2, session.OutputMetadata["output"].Dimensions[1]);
            Assert.Throws<OnnxExportException>(() => Backprop.Onnx.Export(new Sequential(new Doubler()), Tensor.Zeros([1, 3]), path + ".x"));
            Assert.False(File.Exists(path + ".x"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
