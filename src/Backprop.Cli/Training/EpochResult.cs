namespace Backprop.Cli.Training;

/// <summary>One epoch of a run.</summary>
/// <param name="Loss">The mean training loss over the epoch's batches (each weighted by its size), as it trained.</param>
/// <param name="TrainAccuracy">Accuracy on the whole training set after the epoch, as a fraction.</param>
/// <param name="TestAccuracy">Accuracy on the test set after the epoch, as a fraction.</param>
/// <param name="TestLoss">Mean loss on the test set after the epoch.</param>
/// <param name="Seconds">Wall time of the epoch, evaluation included.</param>
public sealed record EpochResult(int Epoch, double Loss, double TrainAccuracy, double TestAccuracy, double TestLoss, double Seconds);
