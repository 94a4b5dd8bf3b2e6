namespace Backprop.Optim;

/// <summary>How <see cref="OneCycleLr"/> moves between two rates within a phase.</summary>
public enum AnnealStrategy
{
    /// <summary>Half a cosine: slow at both ends.</summary>
    Cos,
    Linear,
}
