namespace Backprop.Optim;

/// <summary>Parameters that share hyperparameters in an optimizer (e.g. a backbone with a smaller learning rate).</summary>
public sealed class ParamGroup
{
    internal ParamGroup(IReadOnlyList<Tensor> parameters, OptimizerOptions options)
    {
        Parameters = parameters;
        Options = options;
    }

    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>This group's own hyperparameters (changing them affects only this group).</summary>
    public OptimizerOptions Options { get; }

    /// <summary>Shorthand for <c>Options.LearningRate</c>; schedulers set it.</summary>
    public double LearningRate
    {
        get => Options.LearningRate;
        set => Options.LearningRate = value;
    }

    /// <summary>The learning rate when the first scheduler was attached: the base its schedule scales.</summary>
    public double? InitialLearningRate { get; internal set; }
}
