namespace Backprop.Diagnostics;

/// <summary>
/// A small fully connected network for <see cref="WorkedExample.Custom"/>: layer sizes, activations, one input and its
/// target, the loss, and the weights (given, or drawn from a seed as <see cref="Nn.Linear"/> draws them).
/// </summary>
/// <param name="Sizes">Units per layer, input first: <c>[2, 3, 1]</c> is 2 inputs, 3 hidden units, 1 output.</param>
/// <param name="Hidden">The activation after every layer but the last.</param>
/// <param name="Output">The activation after the last layer.</param>
/// <param name="Input">One sample, <c>Sizes[0]</c> values.</param>
/// <param name="Target">Its target, <c>Sizes[^1]</c> values.</param>
/// <param name="Weights">
/// W1, b1, W2, b2, … (W_k of shape [Sizes[k], Sizes[k−1]], b_k of shape [Sizes[k]]); null to draw them from <paramref name="Seed"/>.
/// </param>
/// <param name="LearningRate">Step size of the SGD update to show; 0 for none.</param>
public sealed record WorkedExampleSpec(
    IReadOnlyList<int> Sizes,
    ExampleActivation Hidden,
    ExampleActivation Output,
    IReadOnlyList<float> Input,
    IReadOnlyList<float> Target,
    ExampleLoss Loss = ExampleLoss.Mse,
    IReadOnlyDictionary<string, Tensor>? Weights = null,
    ulong Seed = 0,
    double LearningRate = 0);
