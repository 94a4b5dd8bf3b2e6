namespace Backprop.Optim;

/// <summary>
/// Hyperparameters an optimizer applies to a parameter group. Each group holds its own copy, which learning-rate
/// schedulers change in place; derive a variant for another group with <c>with</c>:
/// <c>optimizer.AddParamGroup(head.Parameters(), optimizer.Defaults with { LearningRate = 1e-4 })</c>.
/// </summary>
public abstract record OptimizerOptions
{
    /// <summary>The step size γ.</summary>
    public double LearningRate { get; set; }

    /// <summary>λ: an L2 penalty added to the gradient (decoupled from it in <see cref="AdamW"/>).</summary>
    public double WeightDecay { get; set; }

    /// <summary>Climb the objective instead of descending it.</summary>
    public bool Maximize { get; set; }

    /// <summary>Throws naming the first value out of range.</summary>
    internal virtual void Validate(string optimizer)
    {
        Require(optimizer, LearningRate >= 0, $"learning rate must be non-negative; got {LearningRate}");
        Require(optimizer, WeightDecay >= 0, $"weight decay must be non-negative; got {WeightDecay}");
    }

    private protected static void Require(string optimizer, bool condition, string message)
    {
        if (!condition) throw new ArgumentOutOfRangeException(null, $"{optimizer}: {message}.");
    }
}
