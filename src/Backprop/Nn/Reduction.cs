namespace Backprop.Nn;

/// <summary>How a loss combines per-element losses.</summary>
public enum Reduction
{
    /// <summary>The average (over non-ignored elements, weighted where the loss takes weights).</summary>
    Mean,
    Sum,
    /// <summary>No reduction: one loss per element.</summary>
    None,
}
