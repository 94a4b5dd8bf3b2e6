namespace Backprop.Nn;

/// <summary>The feed-forward activation of a transformer layer.</summary>
public enum TransformerActivation
{
    Relu,
    /// <summary>x·Φ(x), with the error function.</summary>
    Gelu,
    /// <summary>GELU's tanh approximation, 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as GPT-2 uses (PyTorch's approximate="tanh").</summary>
    GeluTanh,
}

internal static class TransformerActivations
{
    public static Tensor Apply(TransformerActivation activation, Tensor x) => activation switch
    {
        TransformerActivation.Relu => x.Relu(),
        TransformerActivation.Gelu => x.Gelu(),
        // Composed from primitives: its gradient (and second derivative) comes from theirs.
        TransformerActivation.GeluTanh => x * 0.5 * ((x + x * x * x * 0.044715) * Math.Sqrt(2 / Math.PI)).Tanh() + x * 0.5,
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, "Transformer: unknown activation."),
    };
}
