using System.Globalization;
using Backprop.Nn;

namespace Backprop.Cli.Training;

/// <summary>
/// One layer of a <see cref="ModelArchitecture"/>: its kind and, where it has them, its sizes. For
/// <see cref="LayerKind.Linear"/> <see cref="InFeatures"/> and <see cref="OutFeatures"/> are the feature counts; for
/// <see cref="LayerKind.Conv2d"/> they are the channel counts, with a square <see cref="KernelSize"/>,
/// <see cref="Stride"/> and zero <see cref="Padding"/>; <see cref="LayerKind.MaxPool2d"/> has a kernel and stride.
/// </summary>
public sealed record LayerSpec(LayerKind Kind, int InFeatures = 0, int OutFeatures = 0, int KernelSize = 0, int Stride = 0, int Padding = 0)
{
    public static LayerSpec Linear(int inFeatures, int outFeatures) => new(LayerKind.Linear, inFeatures, outFeatures);

    public static LayerSpec Conv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0) =>
        new(LayerKind.Conv2d, inChannels, outChannels, kernelSize, stride, padding);

    /// <summary>Max pooling over square windows; the stride defaults to the kernel size (disjoint windows).</summary>
    public static LayerSpec MaxPool2d(int kernelSize, int? stride = null) => new(LayerKind.MaxPool2d, KernelSize: kernelSize, Stride: stride ?? kernelSize);

    public static LayerSpec Relu { get; } = new(LayerKind.Relu);

    public static LayerSpec Sigmoid { get; } = new(LayerKind.Sigmoid);

    public static LayerSpec Tanh { get; } = new(LayerKind.Tanh);

    public static LayerSpec Flatten { get; } = new(LayerKind.Flatten);

    /// <summary>Number of learnable values of this layer.</summary>
    public long ParameterCount => Kind switch
    {
        LayerKind.Linear => (long)InFeatures * OutFeatures + OutFeatures,
        LayerKind.Conv2d => (long)InFeatures * OutFeatures * KernelSize * KernelSize + OutFeatures,
        _ => 0,
    };

    /// <summary>A new module for this layer; a Linear or Conv2d layer draws its initial weights from <paramref name="generator"/>.</summary>
    public Module<Tensor, Tensor> Build(Generator generator) => Kind switch
    {
        LayerKind.Linear => new Linear(InFeatures, OutFeatures, generator: generator),
        LayerKind.Conv2d => new Nn.Conv2d(InFeatures, OutFeatures, KernelSize, Stride, Padding, generator: generator),
        LayerKind.MaxPool2d => new Nn.MaxPool2d(KernelSize, Stride),
        LayerKind.Relu => new Relu(),
        LayerKind.Sigmoid => new Sigmoid(),
        LayerKind.Tanh => new Tanh(),
        LayerKind.Flatten => new Flatten(),
        _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "LayerSpec: no module for this layer kind."),
    };

    /// <summary>
    /// The shape of one sample after this layer, given the shape before it (without the batch dim); throws an
    /// <see cref="ArgumentException"/> naming <paramref name="owner"/> when the layer cannot take that shape.
    /// </summary>
    public int[] OutputShape(int[] input, string owner)
    {
        switch (Kind)
        {
            case LayerKind.Flatten:
                return [input.Aggregate(1, (a, b) => a * b)];
            case LayerKind.Linear:
                if (InFeatures <= 0 || OutFeatures <= 0) throw new ArgumentException($"{owner}: {this} has a non-positive size.");
                if (input.Length != 1 || input[0] != InFeatures)
                    throw new ArgumentException($"{owner}: {this} receives {(input.Length == 1 ? input[0].ToString(CultureInfo.InvariantCulture) : "unflattened")} features.");
                return [OutFeatures];
            case LayerKind.Conv2d:
            case LayerKind.MaxPool2d:
                bool conv = Kind == LayerKind.Conv2d;
                if ((conv && (InFeatures <= 0 || OutFeatures <= 0)) || KernelSize <= 0 || Stride <= 0 || Padding < 0)
                    throw new ArgumentException($"{owner}: {this} has a non-positive size.");
                if (input.Length != 3 || (conv && input[0] != InFeatures))
                    throw new ArgumentException($"{owner}: {this} receives [{string.Join(", ", input)}]; it takes [{(conv ? InFeatures.ToString(CultureInfo.InvariantCulture) : "C")}, H, W].");
                int height = (input[1] + 2 * Padding - KernelSize) / Stride + 1, width = (input[2] + 2 * Padding - KernelSize) / Stride + 1;
                if (input[1] + 2 * Padding < KernelSize || input[2] + 2 * Padding < KernelSize)
                    throw new ArgumentException($"{owner}: {this} receives {input[1]}×{input[2]} maps, smaller than its kernel.");
                return [conv ? OutFeatures : input[0], height, width];
            default:
                return input;
        }
    }

    public override string ToString() => Kind switch
    {
        LayerKind.Linear => string.Create(CultureInfo.InvariantCulture, $"Linear({InFeatures}, {OutFeatures})"),
        LayerKind.Conv2d => string.Create(CultureInfo.InvariantCulture,
            $"Conv2d({InFeatures}, {OutFeatures}, {KernelSize}{(Stride != 1 ? $", stride {Stride}" : "")}{(Padding != 0 ? $", padding {Padding}" : "")})"),
        LayerKind.MaxPool2d => string.Create(CultureInfo.InvariantCulture,
            $"MaxPool2d({KernelSize}{(Stride != KernelSize ? $", stride {Stride}" : "")})"),
        _ => Kind.ToString(),
    };
}
