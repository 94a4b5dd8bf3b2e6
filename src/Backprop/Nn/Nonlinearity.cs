namespace Backprop.Nn;

/// <summary>The activation that follows a layer, for <see cref="Init.CalculateGain"/>.</summary>
public enum Nonlinearity
{
    /// <summary>No activation (gain 1).</summary>
    Linear,
    /// <summary>A convolution with no activation after it (gain 1).</summary>
    Conv,
    Sigmoid,
    Tanh,
    Relu,
    LeakyRelu,
    Selu,
}
