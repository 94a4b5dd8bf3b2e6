using System.Globalization;
using Backprop.Cli.Plotting;
using Backprop.IO;

namespace Backprop.Cli.Training;

/// <summary>
/// The files a run leaves in <c>--out DIR</c>: the model for <c>predict</c>, the checkpoint for <c>--resume</c>, and
/// PNG charts. Every file is replaced atomically, so an interrupted run never leaves a half-written one.
/// </summary>
public static class RunOutputs
{
    public const string ModelFile = "model.safetensors";
    public const string CheckpointFile = "checkpoint.safetensors";
    public const string LossChart = "loss.png";
    public const string AccuracyChart = "accuracy.png";
    public const string DecisionBoundaryChart = "decision_boundary.png";

    /// <summary>The decision-boundary chart shows at most this many training points, so it stays legible.</summary>
    private const int MaxPlottedPoints = 1000;

    /// <summary>Writes the checkpoint only (done after epochs while the run goes on).</summary>
    public static string SaveCheckpoint(string directory, Trainer trainer)
    {
        var checkpoint = new Checkpoint();
        trainer.SaveState(checkpoint, "");
        var path = Path.Combine(directory, CheckpointFile);
        checkpoint.Save(path);
        return path;
    }

    /// <summary>Writes every file of the run and returns their names.</summary>
    public static IReadOnlyList<string> WriteAll(string directory, Trainer trainer)
    {
        Directory.CreateDirectory(directory);
        var written = new List<string>();
        trainer.Classifier.Save(Path.Combine(directory, ModelFile), ModelMetadata(trainer));
        written.Add(ModelFile);
        SaveCheckpoint(directory, trainer);
        written.Add(CheckpointFile);

        var history = trainer.History;
        var loss = history.Select(r => r.Loss).ToArray();
        var testLoss = history.Select(r => r.TestLoss).ToArray();
        var all = loss.Concat(testLoss).Where(v => v > 0).DefaultIfEmpty(1).ToArray();
        bool logScale = all.Max() / all.Min() > 100;
        var title = $"{trainer.Settings.Dataset} — {trainer.Settings.Model}, {Optimizers.NameOf(trainer.Settings.Optimizer)}";
        Replace(Path.Combine(directory, LossChart), path => Charts.Lines(path, $"Loss: {title}", "epoch", "loss",
            [("train (running mean)", loss), ("test", testLoss)], logScale));
        written.Add(LossChart);
        Replace(Path.Combine(directory, AccuracyChart), path => Charts.Lines(path, $"Accuracy: {title}", "epoch", "accuracy (%)",
            [("train", history.Select(r => r.TrainAccuracy * 100).ToArray()), ("test", history.Select(r => r.TestAccuracy * 100).ToArray())]));
        written.Add(AccuracyChart);

        if (trainer.Data.Info.Kind == DatasetKind.Table && trainer.Architecture.InputSize == 2)
        {
            var train = trainer.Data.Train;
            var shown = train.GetBatch(Enumerable.Range(0, Math.Min(train.Count, MaxPlottedPoints)).ToArray());
            Replace(Path.Combine(directory, DecisionBoundaryChart), path => Charts.DecisionBoundary(path,
                $"Decision regions: {trainer.Settings.Dataset}, epoch {trainer.Epoch}", shown[0], shown[1],
                points => Tensor.FromArray(trainer.Classifier.Predict(points))));
            written.Add(DecisionBoundaryChart);
        }
        return written;
    }

    /// <summary>Facts about the run stored with the model, for a reader of the file; all of them repeat exactly when the run does.</summary>
    private static Dictionary<string, string> ModelMetadata(Trainer trainer)
    {
        var s = trainer.Settings;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["backprop.trained_with"] = "backprop " + s.CommandLine,
            ["backprop.epochs"] = trainer.Epoch.ToString(CultureInfo.InvariantCulture),
        };
        if (trainer.History.Count > 0)
        {
            metadata["backprop.train_accuracy"] = TrainSettings.Number(trainer.History[^1].TrainAccuracy);
            metadata["backprop.test_accuracy"] = TrainSettings.Number(trainer.History[^1].TestAccuracy);
        }
        return metadata;
    }

    /// <summary>Writes a file through a temporary name in the same directory and renames it over the target.</summary>
    private static void Replace(string path, Action<string> write)
    {
        var temporary = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp.png");
        try
        {
            write(temporary);
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }
}
