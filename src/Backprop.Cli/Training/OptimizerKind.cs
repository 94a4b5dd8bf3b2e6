namespace Backprop.Cli.Training;

/// <summary>The optimizers <c>backprop train --optimizer</c> offers.</summary>
public enum OptimizerKind
{
    /// <summary>Plain stochastic gradient descent.</summary>
    Sgd,

    /// <summary>SGD with momentum 0.9.</summary>
    Momentum,

    Adam,

    /// <summary>Adam with decoupled weight decay 0.01 (PyTorch's default).</summary>
    AdamW,

    RmsProp,
}
