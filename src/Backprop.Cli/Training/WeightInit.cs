namespace Backprop.Cli.Training;

/// <summary>How a model's Linear layers are initialised.</summary>
public enum WeightInit
{
    /// <summary>PyTorch's default: weights and biases uniform in ±1/√fanIn.</summary>
    Default,

    /// <summary>
    /// He (Kaiming) uniform with the ReLU gain, ±√(6/fanIn), for the weights of each Linear layer a ReLU follows;
    /// biases and the other layers keep the default.
    /// </summary>
    He,
}
