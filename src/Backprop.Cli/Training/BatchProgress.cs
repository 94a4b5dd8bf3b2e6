namespace Backprop.Cli.Training;

/// <summary>Where an epoch stands after a batch: running means of the loss and accuracy over the batches so far.</summary>
public readonly record struct BatchProgress(int Epoch, int Batch, int Batches, double Loss, double Accuracy);
