using System.Text.Json.Nodes;
using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Tests.IO;

public class ModelFileTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("backprop-modelfile-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    private static void AssertSameOutputs(Module<Tensor, Tensor> expected, Module<Tensor, Tensor> actual, Tensor input)
    {
        expected.Eval();
        using var _ = Autograd.NoGrad();
        var a = expected.Forward(input).Contiguous().ToArray<double>();
        var b = actual.Forward(input).Contiguous().ToArray<double>();
        Assert.Equal(a, b);
    }

    private static Sequential EveryKind(Generator g) => new(
        new Conv2d(3, 8, 3, padding: 1, generator: g), new BatchNorm2d(8), new GroupNorm(2, 8), new Gelu(),
        new Residual(new Sequential(new Conv2d(8, 8, 3, padding: 1, bias: false, generator: g), new Relu())),
        new ConvTranspose2d(8, 4, 2, stride: 2, generator: g), new LeakyRelu(0.1), new AvgPool2d(2, countIncludePad: false),
        new Upsample(scaleFactor: 2), new Elu(0.7), new Dropout2d(0.3), new MaxPool2d(2, stride: 1, padding: 1, ceilMode: true),
        new AdaptiveAvgPool2d((3, 2)), new Flatten(), new Linear(4 * 3 * 2, 32, generator: g), new LayerNorm(32), new Silu(),
        new Dropout(0.5), new Linear(32, 16, bias: false, generator: g), new Softplus(2), new Tanh(), new Identity(),
        new Linear(16, 6, generator: g), new Sigmoid(), new LogSoftmax(1));

    [Fact]
    public void EveryLayerKindRoundTripsWithItsOutputs()
    {
        var g = new Generator(1);
        var model = EveryKind(g);
        model.Train();
        model.Forward(Tensor.Randn([4, 3, 8, 8], generator: g));   // running statistics away from 0 and 1
        ModelFile.Save(model, PathOf("zoo.safetensors"));
        var loaded = ModelFile.Load<Sequential>(PathOf("zoo.safetensors"));
        Assert.False(loaded.IsTraining);
        Assert.Equal(ModuleArchitecture.Describe(model).ToJsonString(), ModuleArchitecture.Describe(loaded).ToJsonString());
        AssertSameOutputs(model, loaded, Tensor.Randn([2, 3, 8, 8], generator: g));
    }

    [Fact]
    public void SequenceModelsAndFloat64WeightsRoundTrip()
    {
        var g = new Generator(2);
        var model = new Sequential(new Embedding(20, 8, paddingIndex: 0, generator: g), new Conv1d(5, 3, 3, padding: 1, generator: g),
            new Flatten(1, 2), new Linear(24, 4, generator: g), new Softmax(-1)).To(DType.Float64);
        ModelFile.Save(model, PathOf("seq.safetensors"), new Dictionary<string, string> { ["note"] = "kept" });
        var loaded = ModelFile.Load(PathOf("seq.safetensors"));
        Assert.All(loaded.Parameters(), p => Assert.Equal(DType.Float64, p.DType));
        AssertSameOutputs(model, loaded, Tensor.RandInt(0, 20, [3, 5], generator: g));
        Assert.Equal("kept", SafeTensors.Load(PathOf("seq.safetensors")).Metadata["note"]);
    }

    private sealed class Scale(double factor) : Module<Tensor, Tensor>
    {
        public double Factor { get; } = factor;

        protected override Tensor ForwardCore(Tensor input) => input * Factor;
    }

    [Fact]
    public void ProgramsRegisterTheirOwnKinds()
    {
        var model = new Sequential(new Linear(2, 2), new Scale(3));
        Assert.Throws<NotSupportedException>(() => ModelFile.Save(model, PathOf("custom.safetensors")));
        ModuleArchitecture.Register<Scale>("Tests.Scale", m => new JsonObject { ["factor"] = m.Factor },
            j => new Scale(j["factor"]!.GetValue<double>()));
        ModelFile.Save(model, PathOf("custom.safetensors"));
        AssertSameOutputs(model, ModelFile.Load(PathOf("custom.safetensors")), Tensor.Ones([1, 2]));
    }

    private string WriteFile(string name, string architecture, Dictionary<string, Tensor>? tensors = null, string format = ModelFile.Format)
    {
        var path = PathOf(name);
        SafeTensors.Save(path, tensors ?? new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros([2]) },
            new Dictionary<string, string> { ["backprop.format"] = format, ["backprop.architecture"] = architecture });
        return path;
    }

    [Theory]
    [InlineData("""{"type":"System.IO.File"}""", "not one the library knows")]
    [InlineData("""{"type":"Linear","in_features":1000000000,"out_features":1000000000,"bias":true}""", "declares")]
    [InlineData("""{"type":"Linear","in_features":2,"out_features":-1,"bias":true}""", "out_features")]
    [InlineData("""{"type":"Linear","in_features":1,"bias":true}""", "out_features")]
    [InlineData("""{"type":"Sequential","layers":[{"type":"Relu"},3]}""", "not a module description")]
    [InlineData("""[1, 2]""", "not a JSON object")]
    [InlineData("""{"type":"Linear",""", "cannot be rebuilt")]
    [InlineData("""{"type":"Linear","in_features":3,"out_features":2,"bias":true}""", "do not fit")]
    public void MalformedOrHostileArchitecturesFailNamingTheFile(string architecture, string expected)
    {
        var path = WriteFile("bad.safetensors", architecture, new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros([2, 2]), ["bias"] = Tensor.Zeros([2]), ["x"] = Tensor.Zeros([4]) });
        var error = Assert.Throws<MalformedFileException>(() => ModelFile.Load(path));
        Assert.Contains("bad.safetensors", error.Message);
        Assert.True(error.Message.Contains(expected, StringComparison.Ordinal), error.Message);
    }

    [Fact]
    public void DeeplyNestedArchitecturesFailCleanly()
    {
        var nested = string.Concat(Enumerable.Repeat("""{"type":"Residual","body":""", 400)) + """{"type":"Relu"}""" + new string('}', 400);
        var error = Assert.Throws<MalformedFileException>(() => ModelFile.Load(WriteFile("deep.safetensors", nested)));
        Assert.Contains("deep.safetensors", error.Message);
    }

    [Fact]
    public void OtherSafetensorsFilesAreNotTakenForModels()
    {
        var path = PathOf("weights.safetensors");
        SafeTensors.Save(path, new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros([2]) });
        Assert.Contains("no model architecture", Assert.Throws<MalformedFileException>(() => ModelFile.Load(path)).Message);
        Assert.Contains("classifier/1", Assert.Throws<MalformedFileException>(
            () => ModelFile.Load(WriteFile("cls.safetensors", "{}", format: "classifier/1"))).Message);
    }
}
