using System.Diagnostics;
using System.Globalization;
using Backprop.Data;
using Backprop.Distributed;
using Backprop.IO;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Cli.Training;

/// <summary>
/// A classifier training run: the model built from the seed, its optimizer, a shuffling loader, and the history of
/// epochs. Its checkpoint (<see cref="SaveState"/>) holds everything the next epoch depends on, so a run stopped after
/// any epoch and resumed gives the same weights, bit for bit, as one that never stopped.
/// </summary>
/// <remarks>
/// Every random draw of a run comes from generators the run owns, seeded from <see cref="TrainSettings.Seed"/> (see
/// <see cref="RunSeeds"/>): initial weights and the 2-D data before the first epoch, then only the loader's shuffling.
/// The checkpoint stores the loader's generator, position and epoch; the weights; the optimizer's buffers, step
/// counts and hyperparameters in round-trip form; and the history. Nothing draws from <see cref="Generator.Default"/>.
/// The CPU kernels sum in an order that does not depend on the thread count, so the arithmetic repeats exactly.
/// <para>Given a process group (<c>--distributed</c> under mpirun), every rank runs the same loader over the whole set and
/// trains on its slice of each global batch through <see cref="DistributedDataParallel{TInput, TOutput}"/>; the loss is
/// the global batch's mean, so the run is the same computation for any number of ranks (up to float rounding) and its
/// checkpoint, identical in form to a single process's, resumes with any number.</para>
/// </remarks>
public sealed class Trainer : ICheckpointable
{
    /// <summary>The value of <c>backprop.checkpoint</c> that marks a training checkpoint.</summary>
    public const string Format = "train/1";

    private const string FormatKey = "backprop.checkpoint";

    private readonly List<EpochResult> _history = [];
    private readonly Tensor _trainInputs, _trainLabels, _testInputs, _testLabels;
    private readonly DistributedDataParallel<Tensor, Tensor>? _ddp;

    /// <param name="group">The ranks training together, or null for one process.</param>
    /// <param name="bucketCapBytes">Gradient bytes per all-reduce with a group.</param>
    /// <param name="overlap">With a group: all-reduce during backward (false: after it, to measure what overlap hides).</param>
    public Trainer(TrainSettings settings, TrainingData data, ModelArchitecture architecture, IProcessGroup? group = null,
        long bucketCapBytes = GradientReducer.DefaultBucketCapBytes, bool overlap = true)
    {
        Settings = settings;
        Data = data;
        Architecture = architecture;
        var seeds = RunSeeds.From(settings.Seed);
        Model = architecture.Build(new Generator(seeds.Model), settings.Init);
        // Rank 0's initial weights are broadcast, so a replica's own draw never matters (all draw the same anyway).
        if (group is not null) _ddp = new DistributedDataParallel<Tensor, Tensor>(Model, group, bucketCapBytes, overlap);
        Group = group;
        Optimizer = Optimizers.Create(settings.Optimizer, Model.Parameters(), settings.LearningRate);
        Scaler = new GradScaler(enabled: settings.Amp == "fp16");
        // The bundled datasets are tensors in memory, so the loader gathers each batch on this thread (no prefetch).
        Loader = new DataLoader(data.Train, settings.BatchSize, shuffle: data.Info.Defaults.Shuffle, generator: new Generator(seeds.Loader));
        Classifier = new Classifier(data.Info.Name, architecture, Model, data.Info.Transform, data.Info.FeatureNames);
        (_trainInputs, _trainLabels) = Everything(data.Train);
        (_testInputs, _testLabels) = Everything(data.Test);
    }

    public TrainSettings Settings { get; }

    public TrainingData Data { get; }

    public ModelArchitecture Architecture { get; }

    public Sequential Model { get; }

    /// <summary>The ranks training together, or null for one process.</summary>
    public IProcessGroup? Group { get; }

    /// <summary>The data-parallel wrapper of <see cref="Model"/> when <see cref="Group"/> is set.</summary>
    public DistributedDataParallel<Tensor, Tensor>? DataParallel => _ddp;

    public Optimizer Optimizer { get; }

    /// <summary>Dynamic loss scaling: enabled for <c>--amp fp16</c> (float16 gradients underflow without it), a pass-through otherwise.</summary>
    public GradScaler Scaler { get; }

    /// <summary>The autocast scope of the run's forward passes (none for float32).</summary>
    private AutocastScope Autocast() => Settings.Amp is { } amp ? Backprop.Autocast.Enable(TrainSettings.AmpNames[amp]) : default;

    public DataLoader Loader { get; }

    /// <summary>The model with what <c>predict</c> needs to use it.</summary>
    public Classifier Classifier { get; }

    /// <summary>Seconds spent in training steps (forward, backward, all-reduce, optimizer) in this process, evaluation excluded.</summary>
    public double StepSeconds { get; private set; }

    /// <summary>Epochs trained so far (resumed ones included).</summary>
    public int Epoch => _history.Count;

    public IReadOnlyList<EpochResult> History => _history;

    /// <summary>Trains one epoch, then evaluates on the whole training and test sets.</summary>
    /// <param name="onBatch">Called after each batch with the epoch's running loss and accuracy (this rank's share with a group).</param>
    public EpochResult RunEpoch(Action<BatchProgress>? onBatch = null)
    {
        var clock = Stopwatch.StartNew();
        int epoch = Epoch + 1, batches = Loader.BatchesPerEpoch, batch = 0, seen = 0;
        double lossSum = 0;
        long correct = 0;
        Model.Train();
        var steps = Stopwatch.StartNew();
        foreach (var (inputs, labels) in Loader)
        {
            int rows = labels.Size(0);
            Optimizer.ZeroGrad();
            if (_ddp is { } ddp)
            {
                var (first, count) = Slice(rows);
                var localLabels = labels.Narrow(0, first, count);
                Tensor output, localSum;
                using (Autocast())
                {
                    output = ddp.Forward(inputs.Narrow(0, first, count)).Float();
                    // The global batch's mean: this slice's sum over all rows, times the ranks that DDP's average divides by.
                    localSum = Loss(output, localLabels, Reduction.Sum);
                }
                Scaler.ScaleLoss(localSum * ((double)ddp.Group.Size / rows)).Backward();
                Scaler.Step(Optimizer);
                Scaler.Update();
                // This rank's share; summed over the ranks once, after the epoch (every collective is a wait for the slowest rank).
                lossSum += localSum.Item<double>();
                correct += Matches(Classifier.Decide(output, Architecture.Output), localLabels.ToArray<long>());
            }
            else
            {
                Tensor output, loss;
                using (Autocast())
                {
                    output = Model.Forward(inputs).Float();
                    loss = Loss(output, labels, Reduction.Mean);
                }
                Scaler.ScaleLoss(loss).Backward();
                Scaler.Step(Optimizer);
                Scaler.Update();
                lossSum += (double)loss.Item<float>() * rows;
                correct += Matches(Classifier.Decide(output, Architecture.Output), labels.ToArray<long>());
            }
            seen += rows;
            onBatch?.Invoke(new BatchProgress(epoch, ++batch, batches, lossSum / seen, (double)correct / seen));
        }
        StepSeconds += steps.Elapsed.TotalSeconds;
        if (Group is { } group)
        {
            double[] totals = [lossSum, correct];
            group.AllReduceSum(totals);
            (lossSum, correct) = (totals[0], (long)totals[1]);
        }
        var (_, trainAccuracy) = Evaluate(_trainInputs, _trainLabels);
        var (testLoss, testAccuracy) = Evaluate(_testInputs, _testLabels);
        var result = new EpochResult(epoch, lossSum / Math.Max(seen, 1), trainAccuracy, testAccuracy, testLoss, clock.Elapsed.TotalSeconds);
        _history.Add(result);
        return result;
    }

    /// <summary>
    /// Mean loss and accuracy of the model on <paramref name="inputs"/>, in evaluation mode without a graph. With a
    /// group, every rank must call it: each evaluates its slice of the rows with rank 0's buffers, and the sums are all-reduced.
    /// </summary>
    public (double Loss, double Accuracy) Evaluate(Tensor inputs, Tensor labels)
    {
        int n = inputs.Size(0), chunk = Architecture.InferenceRows;
        var (begin, count) = Slice(n);
        double lossSum = 0;
        long correct = 0;
        // Each replica's running statistics last moved with its own slice; evaluate all with rank 0's.
        _ddp?.BroadcastBuffersFromRoot();
        Model.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var autocast = Autocast();
            for (int start = begin; start < begin + count; start += chunk)
            {
                int rows = Math.Min(chunk, begin + count - start);
                var x = inputs.Narrow(0, start, rows);
                var y = labels.Narrow(0, start, rows);
                var output = Model.Forward(x).Float();
                lossSum += Loss(output, y, Reduction.Sum).Item<double>();
                correct += Matches(Classifier.Decide(output, Architecture.Output), y.ToArray<long>());
            }
        }
        finally
        {
            Model.Train();
        }
        if (Group is { } group)
        {
            double[] totals = [lossSum, correct];
            group.AllReduceSum(totals);
            (lossSum, correct) = (totals[0], (long)totals[1]);
        }
        return (lossSum / Math.Max(n, 1), (double)correct / Math.Max(n, 1));
    }

    /// <summary>This rank's rows of <paramref name="rows"/>: contiguous, as even as integers allow (all of them without a group).</summary>
    private (int First, int Count) Slice(int rows)
    {
        if (Group is not { } group) return (0, rows);
        int first = (int)((long)rows * group.Rank / group.Size), end = (int)((long)rows * (group.Rank + 1) / group.Size);
        return (first, end - first);
    }

    private Tensor Loss(Tensor output, Tensor labels, Reduction reduction) => Architecture.Output == ModelOutput.Sigmoid
        ? Functional.BinaryCrossEntropy(output, labels.Float().Unsqueeze(1), reduction: reduction)
        : Functional.CrossEntropy(output, labels, reduction: reduction);

    private static long Matches(long[] predicted, long[] labels)
    {
        long count = 0;
        for (int i = 0; i < labels.Length; i++)
            if (predicted[i] == labels[i]) count++;
        return count;
    }

    private static (Tensor Inputs, Tensor Labels) Everything(Dataset dataset)
    {
        var all = dataset.GetBatch(Enumerable.Range(0, dataset.Count).ToArray());
        return (all[0], all[1]);
    }

    // ---- checkpoints ----

    /// <summary>True when <paramref name="checkpoint"/> was written by a trainer (it carries the format marker).</summary>
    public static bool IsCheckpoint(Checkpoint checkpoint) => checkpoint.Metadata.GetValueOrDefault(FormatKey) == Format;

    /// <summary>
    /// Adds the run to <paramref name="checkpoint"/>: the format marker, settings and architecture, the weights
    /// (<c>model.</c>), optimizer (<c>optimizer.</c>) and loader (<c>loader.</c>) state, and the history.
    /// </summary>
    public void SaveState(Checkpoint checkpoint, string prefix)
    {
        checkpoint.Metadata[prefix + FormatKey] = Format;
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        Settings.WriteMetadata(metadata);
        Architecture.WriteMetadata(metadata);
        foreach (var (key, value) in metadata) checkpoint.Metadata[prefix + key] = value;
        Model.SaveState(checkpoint, prefix + "model.");
        Optimizer.SaveState(checkpoint, prefix + "optimizer.");
        if (Scaler.IsEnabled) Scaler.SaveState(checkpoint, prefix + "scaler.");
        Loader.SaveState(checkpoint, prefix + "loader.");
        checkpoint.Metadata[prefix + "trainer.epoch"] = Epoch.ToString(CultureInfo.InvariantCulture);
        foreach (var (name, select) in HistoryColumns)
            checkpoint.Tensors[prefix + "history." + name] = Tensor.FromArray(_history.Select(select).ToArray());
    }

    /// <summary>
    /// Restores a run saved by <see cref="SaveState"/>. The caller checks the settings match (see
    /// <see cref="TrainSettings.ReadMetadata"/>); this checks the architecture does, and throws naming what differs.
    /// </summary>
    public void LoadState(Checkpoint checkpoint, string prefix)
    {
        var saved = ModelArchitecture.ReadMetadata(
            checkpoint.Metadata.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(e => e.Key[prefix.Length..], e => e.Value),
            "checkpoint");
        if (saved.Describe() != Architecture.Describe())
            throw new InvalidDataException($"the checkpoint's model is {saved.Describe()}; this run builds {Architecture.Describe()}.");
        var epochText = checkpoint.GetMetadata(prefix + "trainer.epoch");
        if (!int.TryParse(epochText, NumberStyles.None, CultureInfo.InvariantCulture, out int epochs))
            throw new InvalidDataException($"metadata '{prefix}trainer.epoch' = '{epochText}' is not an epoch count.");
        var columns = HistoryColumns.Select(c => checkpoint.GetTensor(prefix + "history." + c.Name)).ToArray();
        if (columns.Any(c => c.Rank != 1 || c.Size(0) != epochs))
            throw new InvalidDataException($"the history tensors do not hold {epochs} epochs each.");

        Model.LoadState(checkpoint, prefix + "model.");
        Optimizer.LoadState(checkpoint, prefix + "optimizer.");
        if (Scaler.IsEnabled) Scaler.LoadState(checkpoint, prefix + "scaler.");
        Loader.LoadState(checkpoint, prefix + "loader.");
        var values = columns.Select(c => c.ToArray<double>()).ToArray();
        _history.Clear();
        for (int e = 0; e < epochs; e++)
            _history.Add(new EpochResult(e + 1, values[0][e], values[1][e], values[2][e], values[3][e], values[4][e]));
    }

    private static readonly (string Name, Func<EpochResult, double> Select)[] HistoryColumns =
    [
        ("loss", r => r.Loss),
        ("train_accuracy", r => r.TrainAccuracy),
        ("test_accuracy", r => r.TestAccuracy),
        ("test_loss", r => r.TestLoss),
        ("seconds", r => r.Seconds),
    ];
}
