namespace Backprop.Cli.Training;

/// <summary>The settings a dataset trains with when the command line does not say otherwise: chosen to train well quickly.</summary>
/// <param name="Hidden">The hidden widths of the <c>mlp</c> model.</param>
/// <param name="Shuffle">Visit the training samples in a new order each epoch.</param>
public sealed record TrainingDefaults(
    string Model, IReadOnlyList<int> Hidden, WeightInit Init, OptimizerKind Optimizer, double LearningRate, int BatchSize, int Epochs, bool Shuffle);
