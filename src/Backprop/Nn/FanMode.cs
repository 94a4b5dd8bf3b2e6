namespace Backprop.Nn;

/// <summary>Which fan Kaiming initialisation preserves the variance of: activations forward (FanIn) or gradients backward (FanOut).</summary>
public enum FanMode
{
    FanIn,
    FanOut,
}
