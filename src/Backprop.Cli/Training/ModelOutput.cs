namespace Backprop.Cli.Training;

/// <summary>What a classifier's last layer gives, which decides its loss and how a class is read from it.</summary>
public enum ModelOutput
{
    /// <summary>One score per class (cross-entropy loss); the predicted class is the largest.</summary>
    Logits,

    /// <summary>One probability of class 1 (binary cross-entropy loss); the predicted class is 1 when it is at least ½.</summary>
    Sigmoid,
}
