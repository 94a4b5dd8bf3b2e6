using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Cli.Training;

/// <summary>The command-line names of <see cref="OptimizerKind"/> and the optimizer each one builds.</summary>
public static class Optimizers
{
    /// <summary>Name → kind, for <c>--optimizer</c>.</summary>
    public static IReadOnlyDictionary<string, OptimizerKind> ByName { get; } = new Dictionary<string, OptimizerKind>(StringComparer.Ordinal)
    {
        ["sgd"] = OptimizerKind.Sgd,
        ["momentum"] = OptimizerKind.Momentum,
        ["adam"] = OptimizerKind.Adam,
        ["adamw"] = OptimizerKind.AdamW,
        ["rmsprop"] = OptimizerKind.RmsProp,
    };

    public static string NameOf(OptimizerKind kind) => ByName.First(e => e.Value == kind).Key;

    /// <summary>The optimizer of <paramref name="kind"/> over <paramref name="parameters"/>; hyperparameters other than the rate are PyTorch's defaults.</summary>
    public static Optimizer Create(OptimizerKind kind, IEnumerable<Parameter> parameters, double learningRate) => kind switch
    {
        OptimizerKind.Sgd => new Sgd(parameters, learningRate: learningRate),
        OptimizerKind.Momentum => new Sgd(parameters, learningRate: learningRate, momentum: 0.9),
        OptimizerKind.Adam => new Adam(parameters, learningRate: learningRate),
        OptimizerKind.AdamW => new AdamW(parameters, learningRate: learningRate),
        OptimizerKind.RmsProp => new RmsProp(parameters, learningRate: learningRate),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Optimizers: unknown optimizer kind."),
    };
}
