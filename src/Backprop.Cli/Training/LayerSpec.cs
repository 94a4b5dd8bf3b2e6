using System.Globalization;
using Backprop.Nn;

namespace Backprop.Cli.Training;

/// <summary>One layer of a <see cref="ModelArchitecture"/>: its kind and, for <see cref="LayerKind.Linear"/>, its sizes.</summary>
public sealed record LayerSpec(LayerKind Kind, int InFeatures = 0, int OutFeatures = 0)
{
    public static LayerSpec Linear(int inFeatures, int outFeatures) => new(LayerKind.Linear, inFeatures, outFeatures);

    public static LayerSpec Relu { get; } = new(LayerKind.Relu);

    public static LayerSpec Sigmoid { get; } = new(LayerKind.Sigmoid);

    public static LayerSpec Tanh { get; } = new(LayerKind.Tanh);

    public static LayerSpec Flatten { get; } = new(LayerKind.Flatten);

    /// <summary>A new module for this layer; a Linear layer draws its initial weights from <paramref name="generator"/>.</summary>
    public Module<Tensor, Tensor> Build(Generator generator) => Kind switch
    {
        LayerKind.Linear => new Linear(InFeatures, OutFeatures, generator: generator),
        LayerKind.Relu => new Relu(),
        LayerKind.Sigmoid => new Sigmoid(),
        LayerKind.Tanh => new Tanh(),
        LayerKind.Flatten => new Flatten(),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "LayerSpec: no module for this layer kind."),
    };

    public override string ToString() => Kind == LayerKind.Linear
        ? string.Create(CultureInfo.InvariantCulture, $"Linear({InFeatures}, {OutFeatures})")
        : Kind.ToString();
}
