namespace Backprop.Cli.Training;

/// <summary>Shows a run as it trains: live progress bars in a terminal, plain lines otherwise.</summary>
public interface ITrainingView
{
    void EpochStarted(int epoch, int batches);

    void BatchFinished(BatchProgress progress);

    void EpochFinished(EpochResult result);
}
