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

        var cnn = ModelRegistry.Resolve(DatasetCatalog.Get("mnist"), "cnn", DatasetCatalog.Get("mnist").Defaults.Hidden);
        Assert.Equal("Conv2d(1, 16, 3, padding 1) → Relu → MaxPool2d(2) → Conv2d(16, 32, 3, padding 1) → Relu → MaxPool2d(2) → Flatten → " +
            "Linear(1568, 128) → Relu → Linear(128, 10)", cnn.Describe());
        Assert.Equal([1, 28, 28], cnn.InputShape);
        Assert.Equal(16 * 9 + 16 + 32 * 16 * 9 + 32 + 1568 * 128 + 128 + 128 * 10 + 10, cnn.ParameterCount);
        var network = cnn.Build(new Generator(0), WeightInit.Default);
        Assert.Equal(cnn.ParameterCount, network.Parameters().Sum(p => (long)p.NumElements));
        Assert.Equal(["0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias"], network.StateDict().Keys);
        Assert.Equal([2, 10], network.Forward(Tensor.Randn(2, 1, 28, 28)).Shape.ToArray());
        Assert.False(Assert.Single(ModelRegistry.For(DatasetKind.Images), e => e.Name == "cnn").TakesHidden);
    }

    [Fact]
    public void Inference_batches_keep_the_largest_activation_near_two_million_values()
    {
        var mnist = DatasetCatalog.Get("mnist");
        var cnn = ModelRegistry.Resolve(mnist, "cnn", []);
        // The first convolution's output, 16 × 28 × 28 per image, is the largest: 2²¹ / 12544 = 167 images a pass.
        Assert.Equal(16 * 28 * 28, cnn.LargestActivation);
        Assert.Equal(167, cnn.InferenceRows);
        var mlp = ModelRegistry.Resolve(mnist, "mlp", mnist.Defaults.Hidden);
        Assert.Equal(784, mlp.LargestActivation);
        Assert.Equal(2674, mlp.InferenceRows);
        Assert.Equal(4096, ModelRegistry.Resolve(DatasetCatalog.Get("xor"), "mlp", [4, 4]).InferenceRows);
    }

    [Fact]
    public void He_init_reaches_convolutions_before_a_relu()
    {
        var cnn = ModelRegistry.Resolve(DatasetCatalog.Get("mnist"), "cnn", []);
        var he = cnn.Build(new Generator(1), WeightInit.He);
        // Conv 16→32 3×3 has fanIn 144: He uniform ±√(6/144) ≈ 0.204 against the default ±1/12.
        double heMax = he.NamedParameters().First(p => p.Name == "3.weight").Parameter.Abs().Max().Item();
        Assert.InRange(heMax, 0.19, Math.Sqrt(6.0 / 144));
        double plainMax = cnn.Build(new Generator(1), WeightInit.Default).NamedParameters().First(p => p.Name == "3.weight").Parameter.Abs().Max().Item();
        Assert.InRange(plainMax, 0.08, 1.0 / 12);
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
        var flat = new Dictionary<string, string>(metadata) { ["backprop.layers"] = "[{\"type\":\"3\"}]" };
        Assert.Contains("unknown type '3'", Assert.Throws<MalformedFileException>(() => ModelArchitecture.ReadMetadata(flat, "m.safetensors")).Message);
        metadata.Remove("backprop.classes");
        Assert.Contains("no 'backprop.classes' entry", Assert.Throws<MalformedFileException>(() => ModelArchitecture.ReadMetadata(metadata, "m.safetensors")).Message);
    }

    [Fact]
    public void A_cnn_round_trips_through_metadata_and_shapes_are_checked_layer_by_layer()
    {
        var cnn = ModelRegistry.Resolve(DatasetCatalog.Get("mnist"), "cnn", []);
        var metadata = new Dictionary<string, string>();
        cnn.WriteMetadata(metadata);
        Assert.Contains("{\"type\":\"conv2d\",\"in\":1,\"out\":16,\"kernel\":3,\"stride\":1,\"padding\":1}", metadata["backprop.layers"]);
        Assert.Contains("{\"type\":\"maxpool2d\",\"kernel\":2,\"stride\":2}", metadata["backprop.layers"]);
        Assert.Equal("1,28,28", metadata["backprop.input_shape"]);
        var read = ModelArchitecture.ReadMetadata(metadata, "m.safetensors");
        Assert.Equal(cnn.Describe(), read.Describe());
        Assert.Equal(cnn.Layers, read.Layers);
        Assert.Equal([1, 28, 28], read.InputShape);

        string Error(string layers) => Assert.Throws<MalformedFileException>(() => ModelArchitecture.ReadMetadata(
            new Dictionary<string, string>(metadata) { ["backprop.layers"] = layers }, "m.safetensors")).Message;
        Assert.Contains("Conv2d(3, 16, 3) receives [1, 28, 28]",
            Error("[{\"type\":\"conv2d\",\"in\":3,\"out\":16,\"kernel\":3,\"stride\":1,\"padding\":0},{\"type\":\"flatten\"},{\"type\":\"linear\",\"in\":10816,\"out\":10}]"));
        Assert.Contains("Linear(784, 10) receives unflattened features", Error("[{\"type\":\"linear\",\"in\":784,\"out\":10}]"));
        Assert.Contains("Linear(100, 10) receives 196 features",
            Error("[{\"type\":\"maxpool2d\",\"kernel\":2,\"stride\":2},{\"type\":\"flatten\"},{\"type\":\"linear\",\"in\":100,\"out\":10}]"));
        Assert.Contains("layer 0 (conv2d) needs a positive integer \"kernel\"", Error("[{\"type\":\"conv2d\",\"in\":1,\"out\":16}]"));
        Assert.Contains("the last layer gives [16, 26, 26] per sample",
            Error("[{\"type\":\"conv2d\",\"in\":1,\"out\":16,\"kernel\":3,\"stride\":1,\"padding\":0}]"));
    }
}
