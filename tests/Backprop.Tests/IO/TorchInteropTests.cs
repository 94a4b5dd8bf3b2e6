using System.Globalization;
using System.Text.Json;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Tests.IO;

/// <summary>
/// Safetensors files move between Backprop and PyTorch unchanged. The files under Fixtures/torch were written by libtorch
/// (TorchSharp 0.107 with TorchSharp.PyBridge 1.4.4, tools/torch-fixtures/generate.sh), with values.json listing every
/// value as libtorch held it; Fixtures/backprop holds files this library writes, and check.json what libtorch read from
/// them (generate.sh check). The tests never run libtorch: they compare against what it wrote and read.
/// </summary>
public class TorchInteropTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "IO", "Fixtures");

    private static string SourceFixtures([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Fixtures");

    private static JsonElement Values(string directory, string file) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, directory, file))).RootElement;

    /// <summary>Asserts <paramref name="tensor"/> holds exactly what libtorch described: dtype, shape and every bit of every value.</summary>
    private static void AssertSame(JsonElement expected, Tensor tensor, string what)
    {
        Assert.True(expected.GetProperty("dtype").GetString() == tensor.DType.ToString(), $"{what}: dtype {tensor.DType}");
        Assert.Equal(expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()), tensor.Shape.Dims.Select(d => (long)d));
        var values = expected.GetProperty("values").EnumerateArray().Select(v => v.GetString()!).ToArray();
        var flat = tensor.Contiguous();
        switch (tensor.DType)
        {
            case DType.Int64:
                Assert.Equal(values.Select(v => long.Parse(v, CultureInfo.InvariantCulture)), flat.ToArray<long>());
                break;
            case DType.Int32:
                Assert.Equal(values.Select(v => int.Parse(v, CultureInfo.InvariantCulture)), flat.ToArray<int>());
                break;
            case DType.Bool:
                Assert.Equal(values.Select(v => v == "true"), flat.ToArray<bool>());
                break;
            default:
                var actual = flat.To(DType.Float64).ToArray<double>();
                Assert.Equal(values.Length, actual.Length);
                for (int i = 0; i < values.Length; i++)
                {
                    double want = values[i] == "-0" ? -0.0 : double.Parse(values[i], CultureInfo.InvariantCulture);
                    Assert.True(BitConverter.DoubleToInt64Bits(want) == BitConverter.DoubleToInt64Bits(actual[i]) || (double.IsNaN(want) && double.IsNaN(actual[i])),
                        $"{what}[{i}]: libtorch {values[i]}, Backprop {actual[i].ToString("R", CultureInfo.InvariantCulture)}");
                }
                break;
        }
    }

    [Theory]
    [InlineData("dtypes.safetensors")]
    [InlineData("mlp.safetensors")]
    [InlineData("mlp_io.safetensors")]
    [InlineData("cnn.safetensors")]
    [InlineData("cnn_io.safetensors")]
    public void FilesLibtorchWroteLoadToTheSameValues(string file)
    {
        var expected = Values("torch", "values.json").GetProperty(file);
        var loaded = SafeTensors.Load(Path.Combine(Fixtures, "torch", file)).Tensors;
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), loaded.Keys.Order(StringComparer.Ordinal));
        foreach (var entry in expected.EnumerateObject()) AssertSame(entry.Value, loaded[entry.Name], $"{file}:{entry.Name}");
    }

    private static void AssertModelReproducesLibtorch(Module<Tensor, Tensor> model, string name)
    {
        var result = model.LoadStateDict(SafeTensors.Load(Path.Combine(Fixtures, "torch", $"{name}.safetensors")).Tensors);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        model.Eval();
        var io = SafeTensors.Load(Path.Combine(Fixtures, "torch", $"{name}_io.safetensors")).Tensors;
        float[] actual;
        using (Autograd.NoGrad()) actual = model.Forward(io["input"]).ToArray<float>();
        var expected = io["output"].ToArray<float>();
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"{name} output {i}: libtorch {expected[i]}, Backprop {actual[i]}");
    }

    [Fact]
    public void AnMlpStateDictFromLibtorchGivesLibtorchsOutputs() =>
        AssertModelReproducesLibtorch(new Sequential(new Linear(4, 8), new Relu(), new Linear(8, 3)), "mlp");

    [Fact]
    public void ACnnStateDictWithBatchNormFromLibtorchGivesLibtorchsOutputs() =>
        AssertModelReproducesLibtorch(new Sequential(
            new Conv2d(1, 4, 3, padding: 1), new Relu(), new MaxPool2d(2),
            new Conv2d(4, 8, 3), new BatchNorm2d(8), new Relu(), new Flatten(), new Linear(8 * 2 * 2, 5)), "cnn");

    /// <summary>What this library writes for the reverse check: every dtype it has, and a model's state dict.</summary>
    private static Dictionary<string, Dictionary<string, Tensor>> WrittenByBackprop()
    {
        float[] source = [1f, -2.5f, 65504f, 6.1035156e-05f, 5.9604645e-08f, 0.1f, -0f, float.PositiveInfinity];
        var model = new Sequential(new Linear(3, 4, generator: new Generator(7)), new Relu(), new BatchNorm1d(4), new Linear(4, 2, generator: new Generator(8)));
        return new()
        {
            ["dtypes.safetensors"] = new()
            {
                ["f32"] = Tensor.FromArray(new[] { 0f, -0f, 1.5f, float.MaxValue, float.Epsilon, float.NegativeInfinity }).Reshape(2, 3),
                ["f64"] = Tensor.FromArray(new[] { Math.PI, -Math.E, 1e-300 }),
                ["f16"] = Tensor.FromArray(source).To(DType.Float16),
                ["bf16"] = Tensor.FromArray(source).To(DType.BFloat16),
                ["i64"] = Tensor.FromArray(new[] { long.MinValue, -1L, (1L << 53) + 1 }),
                ["i32"] = Tensor.FromArray(new[] { int.MinValue, 0, int.MaxValue }),
                ["bool"] = Tensor.FromArray(new[] { false, true }),
                ["scalar"] = Tensor.Full([], 42.5),
                ["empty"] = Tensor.Zeros([0, 3]),
                ["transposed"] = Tensor.Arange(12).Reshape(3, 4).T,
            },
            ["mlp.safetensors"] = model.StateDict(),
        };
    }

    [Fact]
    public void FilesBackpropWritesAreTheOnesLibtorchRead()
    {
        var directory = Path.Combine(SourceFixtures(), "backprop");
        bool write = Environment.GetEnvironmentVariable("BACKPROP_WRITE_FIXTURES") == "1";
        if (write) Directory.CreateDirectory(directory);
        var check = write ? default : Values("backprop", "check.json");
        foreach (var (file, tensors) in WrittenByBackprop())
        {
            using var bytes = new MemoryStream();
            SafeTensors.Write(bytes, tensors);
            var path = Path.Combine(directory, file);
            if (write)
            {
                File.WriteAllBytes(path, bytes.ToArray());
                continue;
            }
            // Byte for byte what libtorch was given, and libtorch read every value back as this library holds it.
            Assert.True(File.ReadAllBytes(Path.Combine(Fixtures, "backprop", file)).AsSpan().SequenceEqual(bytes.ToArray()),
                $"{file}: the writer's output changed; regenerate with BACKPROP_WRITE_FIXTURES=1 and tools/torch-fixtures/generate.sh check");
            var read = check.GetProperty(file);
            Assert.Equal(tensors.Keys.Order(StringComparer.Ordinal), read.EnumerateObject().Select(p => p.Name));
            foreach (var (name, tensor) in tensors) AssertSame(read.GetProperty(name), tensor, $"{file}:{name} as libtorch read it");
        }
    }
}
