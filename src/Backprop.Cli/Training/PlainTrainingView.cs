namespace Backprop.Cli.Training;

/// <summary>
/// One line per shown epoch (every epoch of a short run, about 20 of a long one), for redirected output and
/// <c>--json</c>: nothing but text, so logs and pipes stay readable.
/// </summary>
public sealed class PlainTrainingView(TextWriter output, int firstEpoch, int lastEpoch) : ITrainingView
{
    public void EpochStarted(int epoch, int batches)
    {
    }

    public void BatchFinished(BatchProgress progress)
    {
    }

    public void EpochFinished(EpochResult result)
    {
        if (TrainingReport.Shows(result.Epoch, firstEpoch, lastEpoch)) output.WriteLine(TrainingReport.Line(result, lastEpoch));
    }
}
