namespace Backprop.Cli.Training;

/// <summary>The layers a saved model can be rebuilt from (see <see cref="LayerSpec"/>).</summary>
public enum LayerKind
{
    Linear,
    Relu,
    Sigmoid,
    Tanh,
    Flatten,
    Conv2d,
    MaxPool2d,
}
