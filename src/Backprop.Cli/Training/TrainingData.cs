using Backprop.Data;

namespace Backprop.Cli.Training;

/// <summary>The training and test samples of a run: (input, Int64 label) pairs, inputs shaped for the model.</summary>
public sealed record TrainingData(DatasetInfo Info, Dataset Train, Dataset Test);
