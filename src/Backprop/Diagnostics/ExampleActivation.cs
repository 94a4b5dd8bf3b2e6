namespace Backprop.Diagnostics;

/// <summary>The activation of a custom worked example's layer.</summary>
public enum ExampleActivation
{
    /// <summary>No activation: the layer's output is its pre-activation z.</summary>
    Identity,
    Relu,
    Sigmoid,
    Tanh,
}
