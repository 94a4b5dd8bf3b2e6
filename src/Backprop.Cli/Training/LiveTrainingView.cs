using System.Globalization;
using Spectre.Console;

namespace Backprop.Cli.Training;

/// <summary>
/// Spectre progress bars in a terminal: one over the epochs, whose caption holds the last epoch's loss and accuracies,
/// and, when an epoch has several batches, one over the current epoch's batches with its running loss and accuracy.
/// </summary>
public sealed class LiveTrainingView : ITrainingView
{
    private readonly ProgressTask _epochs;
    private readonly ProgressContext _context;
    private readonly int _lastEpoch;
    private ProgressTask? _batches;

    public LiveTrainingView(ProgressContext context, int firstEpoch, int lastEpoch)
    {
        _context = context;
        _lastEpoch = lastEpoch;
        _epochs = context.AddTask($"epochs {firstEpoch}–{lastEpoch}", maxValue: lastEpoch - firstEpoch + 1);
    }

    public void EpochStarted(int epoch, int batches)
    {
        if (batches > 1) _batches = _context.AddTask(Caption(epoch, 0, 0), maxValue: batches);
    }

    public void BatchFinished(BatchProgress p)
    {
        if (_batches is null) return;
        _batches.Value = p.Batch;
        _batches.Description = Caption(p.Epoch, p.Loss, p.Accuracy);
    }

    public void EpochFinished(EpochResult r)
    {
        _batches?.StopTask();
        _batches = null;
        _epochs.Increment(1);
        _epochs.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch}/{_lastEpoch} done  loss {TrainingReport.Loss(r.Loss)}  train {TrainingReport.Percent(r.TrainAccuracy)}  test {TrainingReport.Percent(r.TestAccuracy)}"));
    }

    private string Caption(int epoch, double loss, double accuracy) => Markup.Escape(string.Create(CultureInfo.InvariantCulture,
        $"  epoch {epoch}/{_lastEpoch}  loss {TrainingReport.Loss(loss)}  accuracy {TrainingReport.Percent(accuracy)}"));
}
