namespace Backprop;

/// <summary>A backward step produced NaN or ±∞. The message names the node and where its forward op ran.</summary>
public sealed class AnomalyException(string message, Node node) : InvalidOperationException(message)
{
    public Node Node { get; } = node;
}

internal static class AnomalyCheck
{
    /// <summary>Throws if a gradient a node just produced holds a non-finite value.</summary>
    public static void AfterBackward(Node node, Tensor?[] inputGrads)
    {
        for (int i = 0; i < inputGrads.Length; i++)
        {
            if (inputGrads[i] is not { } g || !g.DType.IsFloatingPoint()) continue;
            var (nan, inf) = g.CountNonFinite();
            if (nan == 0 && inf == 0) continue;
            string what = nan > 0 ? $"{nan} NaN" + (inf > 0 ? $" and {inf} infinite" : "") : $"{inf} infinite";
            throw new AnomalyException(
                $"Function '{node.Name}' returned {what} value(s) in its gradient for input {i} (shape {g.Shape})." +
                (node.Origin?.Describe($" {node.Name} was created") ?? " Run the forward pass inside Autograd.DetectAnomaly() to see where it was created."),
                node);
        }
    }
}
