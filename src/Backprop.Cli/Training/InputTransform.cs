namespace Backprop.Cli.Training;

/// <summary>How raw inputs are turned into what a model was trained on; saved with the model so predictions match.</summary>
public enum InputTransform
{
    /// <summary>Features as they are.</summary>
    None,

    /// <summary>
    /// MNIST pixels: bytes scaled to [0, 1], then standardised with the training set's mean and standard deviation
    /// (<see cref="Backprop.Data.Mnist.Mean"/>, <see cref="Backprop.Data.Mnist.Std"/>), as in PyTorch's usual recipe.
    /// </summary>
    MnistStandardize,
}
