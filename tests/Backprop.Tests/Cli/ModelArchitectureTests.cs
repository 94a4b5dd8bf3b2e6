using Backprop.Cli.Training;
using Backprop.IO;

namespace Backprop.Tests.Cli;

[Collection(nameof(CliRunner))]
public class ModelArchitectureTests
{
    [Fact]
    public void The_registry_builds_the_specified_models()
    {
        var xor = ModelRegistry.Resolve(DatasetCatalog.Get("xor"), "mlp", DatasetCatalog.Get("xor").Defaults.Hidden);
        Assert.Equal("Linear(2, 4) → Relu → Linear(4, 4) → Relu → Linear(4, 1) → Sigmoid", xor.Describe());
        Assert.Equal(ModelOutput.Sigmoid, xor.Output);
        Assert.Equal(37, xor.ParameterCount);

        var mnist = ModelRegistry.Resolve(DatasetCatalog.Get("mnist"), "mlp", DatasetCatalog.Get("mnist").Defaults.Hidden);
        Assert.Equal("Linear(784, 256) → Relu → Linear(256, 128) → Relu → Linear(128, 10)", mnist.Describe());
        Assert.Equal(784L * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10, mnist.ParameterCount);
        Assert.Equal(mnist.ParameterCount, mnist.Build(new Generator(0), WeightInit.Default).Parameters().Sum(p => (long)p.NumElements));

        var cnn = Assert.Single(ModelRegistry.For(DatasetKind.Images), e => e.Name == "cnn");
        Assert.Null(cnn.Create);
        Assert.Contains("not available yet", Assert.Throws<Backprop.Cli.UsageException>(
            () => ModelRegistry.Resolve(DatasetCatalog.Get("mnist"), "cnn", [])).Message);
    }

    [Fact]
    public void He_init_draws_relu_layers_from_the_wider_range()
    {
        var architecture = ModelArchitecture.Mlp("mlp", 400, [300], 2, ModelOutput.Logits);
        var he = architecture.Build(new Generator(1), WeightInit.He);
        var plain = architecture.Build(new Generator(1), WeightInit.Default);
        // Default: U(±1/√400) = ±0.05; He before a ReLU: U(±√(6/400)) ≈ ±0.1225; the output layer stays default.
        double heMax = he.NamedParameters().First(p => p.Name == "0.weight").Parameter.Abs().Max().Item();
        double plainMax = plain.NamedParameters().First(p => p.Name == "0.weight").Parameter.Abs().Max().Item();
        Assert.InRange(heMax, 0.115, Math.Sqrt(6.0 / 400));
        Assert.InRange(plainMax, 0.045, 0.05);
        Assert.InRange(he.NamedParameters().First(p => p.Name == "2.weight").Parameter.Abs().Max().Item(), 0, 1 / Math.Sqrt(300));
    }

    [Fact]
    public void The_metadata_round_trips_and_bad_metadata_names_the_file()
    {
        var architecture = ModelArchitecture.Mlp("mlp", 2, [16, 8], 3, ModelOutput.Logits);
        var metadata = new Dictionary<string, string>();
        architecture.WriteMetadata(metadata);
        var read = ModelArchitecture.ReadMetadata(metadata, "m.safetensors");
        Assert.Equal(architecture.Describe(), read.Describe());
        Assert.Equal(architecture.InputShape, read.InputShape);
        Assert.Equal(3, read.Classes);

        var unknown = new Dictionary<string, string>(metadata) { ["backprop.layers"] = "[{\"type\":\"conv9\"}]" };
        Assert.Contains("m.safetensors: metadata 'backprop.layers': layer 0 has the unknown type 'conv9'",
            Assert.Throws<MalformedFileException>(() => ModelArchitecture.ReadMetadata(unknown, "m.safetensors")).Message);
        var broken = new Dictionary<string, string>(metadata) { ["backprop.layers"] = "[{\"type\":\"linear\",\"in\":2,\"out\":16},{\"type\":\"linear\",\"in\":4,\"out\":3}]" };
        Assert.Contains("Linear(4, 3) receives 16 features",
            Assert.Throws<MalformedFileException>(() => ModelArchitecture.ReadMetadata(broken, "m.safetensors")).Message);
        metadata.Remove("backprop.classes");
        Assert.Contains("no 'backprop.classes' entry", Assert.Throws<MalformedFileException>(() => ModelArchitecture.ReadMetadata(metadata, "m.safetensors")).Message);
    }
}
