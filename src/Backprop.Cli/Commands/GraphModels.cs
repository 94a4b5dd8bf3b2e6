using Backprop.Nn;

namespace Backprop.Cli.Commands;

/// <summary>A model and one batch through it, ready to export: the loss and the names of the model's parameters.</summary>
public sealed record GraphSample(string Title, Module Model, Tensor Loss)
{
    /// <summary>Parameter names from the model (<c>0.weight</c>, …), for the graph's leaf nodes.</summary>
    public IReadOnlyDictionary<Tensor, string> LeafNames { get; } =
        Model.NamedParameters().ToDictionary<(string Name, Parameter Parameter), Tensor, string>(p => p.Parameter, p => p.Name, ReferenceEqualityComparer.Instance);
}

/// <summary>
/// The models <c>backprop graph</c> can draw, by name: the benchmark workloads of the same names (Workloads),
/// each with one seeded batch. An entry without a builder says why it is not available yet.
/// </summary>
public static class GraphModels
{
    public sealed record Entry(string Summary, Func<GraphSample>? Build, string? Unavailable = null);

    public static IReadOnlyDictionary<string, Entry> All { get; } = new Dictionary<string, Entry>
    {
        ["xor"] = new("Linear(2,4)-ReLU-Linear(4,4)-ReLU-Linear(4,1)-Sigmoid, binary cross-entropy on the XOR table", Xor),
        ["mlp"] = new("Linear(784,256)-ReLU-Linear(256,128)-ReLU-Linear(128,10), cross-entropy, batch 128", Mlp),
        ["cnn"] = new("Conv2d(1,8,3,pad 1)-ReLU-MaxPool(2)-Conv2d(8,16,3,pad 1)-ReLU-MaxPool(2)-Flatten-Linear(784,10), cross-entropy, batch 64", Cnn),
    };

    private static GraphSample Xor()
    {
        var generator = new Generator(0);
        var model = new Sequential(
            new Linear(2, 4, generator: generator), new Relu(),
            new Linear(4, 4, generator: generator), new Relu(),
            new Linear(4, 1, generator: generator), new Sigmoid());
        var x = Tensor.FromArray(new float[] { 0, 0, 0, 1, 1, 0, 1, 1 }, 4, 2);
        var y = Tensor.FromArray(new float[] { 0, 1, 1, 0 }, 4, 1);
        return new GraphSample("xor", model, Functional.BinaryCrossEntropy(model.Forward(x), y));
    }

    private static GraphSample Mlp()
    {
        var (model, x, y) = Workloads.MlpSetup();
        return new GraphSample("mlp", model, Functional.CrossEntropy(model.Forward(x), y));
    }

    private static GraphSample Cnn()
    {
        var (model, x, y) = Workloads.CnnSetup();
        return new GraphSample("cnn", model, Functional.CrossEntropy(model.Forward(x), y));
    }
}
