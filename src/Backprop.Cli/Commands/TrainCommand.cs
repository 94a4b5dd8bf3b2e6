using Backprop.Diagnostics;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Backends.Cpu;
using Backprop.Cli.Training;
using Backprop.Distributed;
using Backprop.IO;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop train xor|moons|spiral|circles|mnist</c>: trains a classifier with live progress (plain lines when the
/// output is redirected or with <c>--json</c>), prints a table of the epochs, and with <c>--out DIR</c> saves the
/// model, a checkpoint to resume from, and charts. <c>--resume FILE</c> continues a run bit for bit.
/// </summary>
public static class TrainCommand
{
    private static readonly HashSet<string> ValueOptions =
        ["model", "hidden", "init", "epochs", "batch-size", "lr", "optimizer", "seed", "limit", "data", "out", "resume", "threads", "bucket-mb", "amp"];

    private static readonly HashSet<string> FlagOptions = ["json", "diagnose", "no-nan-check", "distributed", "no-overlap"];

    /// <summary>Options that define the run (see <see cref="TrainSettings"/>): a resumed run takes them from its checkpoint.</summary>
    private static readonly string[] SettingOptions = ["model", "hidden", "init", "optimizer", "lr", "batch-size", "seed", "limit", "amp"];

    /// <summary>While a run goes on, its checkpoint is refreshed after an epoch once this long has passed since the last save.</summary>
    private static readonly TimeSpan CheckpointInterval = TimeSpan.FromSeconds(10);

    /// <summary>The exit code of a run stopped with Ctrl+C (128 + SIGINT, as shells report it).</summary>
    private const int Interrupted = 130;

    public static int Run(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.Out.Write(HelpText());
            return 0;
        }
        if (args.Length > 0 && args[0].Equals("text", StringComparison.OrdinalIgnoreCase)) return TrainTextCommand.Run(args[1..]);
        // A sequence-regression task with its own model and report, not a classifier.
        if (args is ["adding", ..]) return TrainAddingCommand.Run(args[1..]);
        var options = new CliArguments("train", args, ValueOptions, FlagOptions);
        if (options.String("threads") is not null) CpuBackend.ThreadCount = options.Int("threads", 1, min: 1);
        using var world = options.Flag("distributed") ? JoinWorld() : null;
        if (world is { Rank: > 0 })
        {
            // Every rank trains; rank 0 alone prints, plots and writes files (the others' views are rank 0's anyway).
            Console.SetOut(TextWriter.Null);
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(TextWriter.Null) });
        }

        var resumePath = options.String("resume");
        Checkpoint? checkpoint = null;
        TrainSettings settings;
        if (resumePath is null)
        {
            settings = SettingsFromOptions(options);
        }
        else
        {
            (resumePath, checkpoint) = ReadCheckpoint(resumePath);
            settings = ResumedSettings(options, checkpoint, resumePath);
        }

        var info = DatasetCatalog.Get(settings.Dataset);
        int lastEpoch = options.Int("epochs", info.Defaults.Epochs, min: 1);
        var dataDirectory = options.String("data");
        if (dataDirectory is not null && info.Kind != DatasetKind.Images)
            throw Usage($"--data applies to mnist only; the {info.Name} set is generated from the seed.");
        var outDirectory = world is { Rank: > 0 } ? null : options.String("out");
        bool json = options.Flag("json");

        if (options.String("hidden") is not null && ModelRegistry.For(info.Kind).FirstOrDefault(e => e.Name == settings.Model) is { TakesHidden: false } fixedModel)
            throw Usage($"--hidden sets the widths of an mlp; the {fixedModel.Name} model's layers are fixed.");
        var architecture = ModelRegistry.Resolve(info, settings.Model, settings.Hidden);
        var data = DatasetCatalog.Load(info, architecture, RunSeeds.From(settings.Seed), settings.Limit, dataDirectory);
        if (world is null && (options.String("bucket-mb") is not null || options.Flag("no-overlap")))
            throw Usage("--bucket-mb and --no-overlap tune --distributed training; add --distributed (under mpirun).");
        long bucketBytes = (long)(options.Double("bucket-mb", GradientReducer.DefaultBucketCapBytes / 1048576.0) * 1048576);
        if (bucketBytes < 1) throw Usage($"--bucket-mb must be positive; got '{options.String("bucket-mb")}'.");
        var trainer = new Trainer(settings, data, architecture, world, bucketBytes, overlap: !options.Flag("no-overlap"));
        if (checkpoint is not null)
        {
            Restore(trainer, checkpoint, resumePath!);
            if (lastEpoch <= trainer.Epoch)
                throw Usage($"{resumePath} has already trained {trainer.Epoch} epochs; pass --epochs above {trainer.Epoch} to continue it.");
        }

        // The monitor hooks the model before the first step, so every step's gradients are in its report.
        using var monitor = options.Flag("diagnose") ? GradientFlowMonitor.Attach(trainer.Model) : null;
        int firstEpoch = trainer.Epoch + 1;
        var console = Console.Out;
        console.WriteLine(Header(trainer, lastEpoch, resumePath));

        bool live = !json && world is null && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Ansi && AnsiConsole.Profile.Capabilities.Interactive;
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            // The first Ctrl+C finishes the epoch and saves; a second one ends the process at once.
            if (stop.IsCancellationRequested) return;
            stop.Cancel();
            e.Cancel = true;
        };
        Console.CancelKeyPress += onCancel;
        // On unless --no-nan-check: the first NaN or ±∞ a backward pass produces stops the run, naming the op, instead of
        // training on garbage. It scans each gradient once as it is made, a small part of a step (see HelpText).
        using var nanCheck = options.Flag("no-nan-check") ? default(AnomalyScope?) : Autograd.DetectNonFinite();
        var clock = Stopwatch.StartNew();
        bool finished;
        try
        {
            if (live)
            {
                finished = AnsiConsole.Progress()
                    .AutoClear(true)
                    .HideCompleted(true)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                        new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(context => Loop(trainer, new LiveTrainingView(context, firstEpoch, lastEpoch), lastEpoch, outDirectory, stop.Token));
            }
            else
            {
                finished = Loop(trainer, new PlainTrainingView(console, firstEpoch, lastEpoch), lastEpoch, outDirectory, stop.Token);
            }
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
        double seconds = clock.Elapsed.TotalSeconds;

        AnsiConsole.Write(TrainingReport.Table(trainer.History));
        var last = trainer.History[^1];
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{info.Name}: test accuracy {TrainingReport.Percent(last.TestAccuracy)}, train accuracy {TrainingReport.Percent(last.TrainAccuracy)}, " +
            $"loss {TrainingReport.Loss(last.Loss)} after {trainer.Epoch} epochs ({trainer.Epoch - firstEpoch + 1} in this run, {seconds:F2}s)"));
        if (trainer.DataParallel is { } ddp) console.WriteLine(CommunicationSummary(trainer, ddp.Reducer));
        if (outDirectory is not null)
        {
            var written = RunOutputs.WriteAll(outDirectory, trainer);
            console.WriteLine($"saved in {outDirectory}: {string.Join(", ", written)}");
        }
        if (!finished)
        {
            console.WriteLine(outDirectory is null
                ? $"stopped after epoch {trainer.Epoch} (Ctrl+C)."
                : $"stopped after epoch {trainer.Epoch} (Ctrl+C); continue with: backprop train --resume {Path.Combine(outDirectory, RunOutputs.CheckpointFile)} --epochs {lastEpoch} --out {outDirectory}");
        }
        if (monitor is not null)
        {
            var chart = Path.Combine(outDirectory ?? ".", "grad-norms.png");
            DiagnoseOutput.Finish(monitor, chart, $"{info.Name}: gradient flow per layer");
        }
        if (json) console.WriteLine(Json(trainer, seconds, firstEpoch, outDirectory, monitor));
        return finished ? 0 : Interrupted;
    }

    /// <summary>The usage, with each dataset's defaults and models.</summary>
    public static string HelpText()
    {
        var sb = new StringBuilder();
        sb.Append("""
            backprop train DATASET [options]

              --model NAME         the model (see below; default mlp)
              --hidden W,W,…       hidden layer widths of an mlp
              --init default|he    weight initialisation (PyTorch's default, or He uniform before each ReLU)
              --optimizer NAME     sgd, momentum (SGD with momentum 0.9), adam, adamw or rmsprop
              --lr RATE            learning rate
              --batch-size N       samples per step
              --epochs N           epochs to train (with --resume: the total to reach)
              --seed N             seed of the data, the initial weights and the shuffling (default 0)
              --limit N            use at most N training and N test samples
              --data DIR           mnist only: a directory of MNIST IDX files (default: the bundled 10k subset)
              --out DIR            save model.safetensors, checkpoint.safetensors and PNG charts there
              --resume FILE        continue the run saved in a checkpoint (or a run's --out DIR), bit for bit
              --threads N          CPU threads (per rank with --distributed)
              --amp bf16|fp16      mixed precision: matmuls and convolutions in bfloat16 or float16 (Autocast), float32
                                   master weights, softmax/norms/losses in float32; fp16 adds dynamic loss scaling (GradScaler)
              --distributed        data-parallel over MPI, started as `mpirun -np N backprop train …`: each rank
                                   trains on its slice of every batch, gradients are averaged (all-reduce), rank 0
                                   alone prints and writes --out; a checkpoint resumes with any N (or without MPI)
              --bucket-mb MB       with --distributed: gradient megabytes per all-reduce (default 25, as PyTorch)
              --no-overlap         with --distributed: all-reduce after backward instead of during it (to measure)
              --json               plain progress lines, and the result as one JSON object on the last line
              --diagnose           watch the gradients: after training, a per-layer report (vanishing, exploding,
                                   dead ReLU units, non-finite values) and grad-norms.png (in --out, or here)
              --no-nan-check       train on when a gradient turns NaN or infinite; by default the run stops at the
                                   first one (Autograd.DetectNonFinite), naming the op, and exits with code 1

            backprop train text [--file F] [--model lstm|transformer]: a character-level language model (see
            `backprop train text --help`)
            backprop train adding [--model lstm|rnn|gru] …: the adding problem (see backprop train adding --help)

            DATASET, with its defaults and models:

            """);
        foreach (var d in DatasetCatalog.All)
        {
            var t = d.Defaults;
            sb.Append(CultureInfo.InvariantCulture, $"  {d.Name,-8} {d.Summary}\n");
            sb.Append(CultureInfo.InvariantCulture,
                $"           defaults: --model {t.Model} --hidden {TrainSettings.HiddenText(t.Hidden)} --init {TrainSettings.NameOf(t.Init)} ");
            sb.Append(CultureInfo.InvariantCulture,
                $"--optimizer {Optimizers.NameOf(t.Optimizer)} --lr {TrainSettings.Number(t.LearningRate)} --batch-size {t.BatchSize} --epochs {t.Epochs}\n");
            foreach (var m in ModelRegistry.For(d.Kind))
                sb.Append(CultureInfo.InvariantCulture, $"           --model {m.Name}: {m.Summary}{(m.Create is null ? " (not available yet)" : "")}\n");
        }
        return sb.ToString();
    }

    /// <summary>Trains until <paramref name="lastEpoch"/> or a stop request; false when stopped early.</summary>
    private static bool Loop(Trainer trainer, ITrainingView view, int lastEpoch, string? outDirectory, CancellationToken stop)
    {
        var sinceSave = Stopwatch.StartNew();
        while (trainer.Epoch < lastEpoch)
        {
            int batches = trainer.Loader.BatchesPerEpoch, done = 0;
            view.EpochStarted(trainer.Epoch + 1, batches);
            EpochResult result;
            try
            {
                result = trainer.RunEpoch(progress =>
                {
                    done = progress.Batch;
                    view.BatchFinished(progress);
                });
            }
            catch (AnomalyException e)
            {
                throw new TrainingDivergedException(
                    $"the run diverged in epoch {trainer.Epoch + 1}, batch {done + 1} of {batches}: {OneLine(e.Message)} " +
                    "Lower --lr (or change the model); --no-nan-check trains on regardless.", e);
            }
            view.EpochFinished(result);
            // Ranks stop together: one that left the loop alone would leave the others waiting in an all-reduce.
            if (AnyRank(trainer.Group, stop.IsCancellationRequested)) return trainer.Epoch >= lastEpoch;
            // The final checkpoint is written with the other files; in between, often enough that a crash loses little.
            if (outDirectory is not null && trainer.Epoch < lastEpoch && sinceSave.Elapsed >= CheckpointInterval)
            {
                RunOutputs.SaveCheckpoint(outDirectory, trainer);
                sinceSave.Restart();
            }
        }
        return true;
    }

    /// <summary>Rank 0's share of step time in all-reduce, and how much of it backward did not have to wait for.</summary>
    private static string CommunicationSummary(Trainer trainer, GradientReducer reducer)
    {
        double steps = trainer.StepSeconds, allReduce = reducer.AllReduceSeconds, waited = reducer.WaitSeconds;
        var buckets = reducer.Buckets;
        string sizes = string.Join("+", buckets.Select(b => (b.Bytes / 1048576.0).ToString("0.###", CultureInfo.InvariantCulture)));
        string overlap = reducer.Overlap
            ? FormattableString.Invariant($"backward waited {waited:F2}s for it ({Math.Max(allReduce - waited, 0):F2}s hidden by overlap)")
            : "run after backward (--no-overlap)";
        return FormattableString.Invariant(
            $"rank 0: steps {steps:F2}s; all-reduce {allReduce:F2}s ({allReduce / Math.Max(steps, 1e-9):P0} of it) in {buckets.Count} bucket(s) of {sizes} MB; {overlap}");
    }

    /// <summary>Initializes MPI for a run started by mpirun; a missing Open MPI is a usage error saying what to install.</summary>
    private static MpiProcessGroup JoinWorld()
    {
        try
        {
            return MpiProcessGroup.Initialize();
        }
        catch (DllNotFoundException e)
        {
            throw Usage($"--distributed: {e.Message}");
        }
    }

    private static bool AnyRank(IProcessGroup? group, bool value)
    {
        if (group is null) return value;
        double[] flag = [value ? 1 : 0];
        group.AllReduceSum(flag);
        return flag[0] > 0;
    }

    private static string OneLine(string text) => string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static TrainSettings SettingsFromOptions(CliArguments options)
    {
        var dataset = options.Target(DatasetCatalog.Names, fallback: null);
        var defaults = DatasetCatalog.Get(dataset).Defaults;
        return new TrainSettings(
            dataset,
            options.String("model")?.ToLowerInvariant() ?? defaults.Model,
            Hidden(options) ?? defaults.Hidden,
            options.Choice("init", defaults.Init, TrainSettings.InitNames),
            options.Choice("optimizer", defaults.Optimizer, Optimizers.ByName),
            LearningRate(options) ?? defaults.LearningRate,
            options.Int("batch-size", defaults.BatchSize, min: 1),
            (ulong)options.Int("seed", 0, min: 0),
            options.String("limit") is null ? null : options.Int("limit", 0, min: 1),
            Amp(options));
    }

    private static int[]? Hidden(CliArguments options)
    {
        var text = options.String("hidden");
        if (text is null) return null;
        return TrainSettings.ParseHidden(text)
            ?? throw Usage($"--hidden must be comma-separated positive layer widths such as 16,16; got '{text}'.");
    }

    private static string? Amp(CliArguments options)
    {
        if (options.String("amp") is not { } text) return null;
        return TrainSettings.AmpNames.ContainsKey(text) ? text : throw Usage($"--amp must be bf16 or fp16; got '{text}'.");
    }

    private static double? LearningRate(CliArguments options)
    {
        if (options.String("lr") is not { } text) return null;
        double rate = options.Double("lr", 0);
        if (!(rate > 0) || double.IsInfinity(rate)) throw Usage($"--lr must be a positive number; got '{text}'.");
        return rate;
    }

    /// <summary>The checkpoint at <paramref name="path"/>, or in it when it is a directory (a run's --out).</summary>
    private static (string Path, Checkpoint Checkpoint) ReadCheckpoint(string path)
    {
        if (Directory.Exists(path)) path = System.IO.Path.Combine(path, RunOutputs.CheckpointFile);
        if (!File.Exists(path)) throw Usage($"the checkpoint file '{path}' does not exist.");
        var checkpoint = Checkpoint.Load(path);
        if (!Trainer.IsCheckpoint(checkpoint))
            throw new MalformedFileException(path, $"not a training checkpoint (its metadata lacks 'backprop.checkpoint' = '{Trainer.Format}'); `backprop train … --out DIR` writes one");
        return (path, checkpoint);
    }

    /// <summary>The checkpoint's settings, after checking that whatever the command line says agrees with them.</summary>
    private static TrainSettings ResumedSettings(CliArguments options, Checkpoint checkpoint, string path)
    {
        var saved = TrainSettings.ReadMetadata(checkpoint.Metadata, path);
        if (options.Positional.Count > 0)
        {
            var asked = options.Target(DatasetCatalog.Names, fallback: null);
            if (asked != saved.Dataset)
                throw Usage($"cannot resume {path}: it is a checkpoint of `train {saved.Dataset} --model {saved.Model}`, not of {asked}.");
        }
        var asGiven = saved with
        {
            Model = options.String("model")?.ToLowerInvariant() ?? saved.Model,
            Hidden = Hidden(options) ?? saved.Hidden,
            Init = options.Choice("init", saved.Init, TrainSettings.InitNames),
            Optimizer = options.Choice("optimizer", saved.Optimizer, Optimizers.ByName),
            LearningRate = LearningRate(options) ?? saved.LearningRate,
            BatchSize = options.Int("batch-size", saved.BatchSize, min: 1),
            Seed = options.String("seed") is null ? saved.Seed : (ulong)options.Int("seed", 0, min: 0),
            Limit = options.String("limit") is null ? saved.Limit : options.Int("limit", 0, min: 1),
            Amp = options.String("amp") is null ? saved.Amp : Amp(options),
        };
        if (asGiven.Model != saved.Model)
            throw Usage($"cannot resume {path}: it is a run of the {saved.Model} model on {saved.Dataset}, not {asGiven.Model}.");
        var differing = SettingOptions.Where(o => options.String(o) is not null && Value(asGiven, o) != Value(saved, o)).ToList();
        if (differing.Count > 0)
        {
            var o = differing[0];
            throw Usage($"cannot resume {path} with --{o} {Value(asGiven, o)}: the run has --{o} {Value(saved, o)}, and a resumed run keeps its settings ({saved.CommandLine}).");
        }
        return saved;
    }

    private static string Value(TrainSettings s, string option) => option switch
    {
        "model" => s.Model,
        "hidden" => TrainSettings.HiddenText(s.Hidden),
        "init" => TrainSettings.NameOf(s.Init),
        "optimizer" => Optimizers.NameOf(s.Optimizer),
        "lr" => TrainSettings.Number(s.LearningRate),
        "batch-size" => s.BatchSize.ToString(CultureInfo.InvariantCulture),
        "seed" => s.Seed.ToString(CultureInfo.InvariantCulture),
        "limit" => s.Limit?.ToString(CultureInfo.InvariantCulture) ?? "(none)",
        "amp" => s.Amp ?? "(none)",
        _ => throw new ArgumentOutOfRangeException(nameof(option), option, "TrainCommand: not a setting option."),
    };

    private static void Restore(Trainer trainer, Checkpoint checkpoint, string path)
    {
        try
        {
            trainer.LoadState(checkpoint, "");
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or InvalidDataException or FormatException or ArgumentException)
        {
            throw new MalformedFileException(path, $"cannot resume from it: {e.Message}", e);
        }
    }

    private static string Header(Trainer trainer, int lastEpoch, string? resumedFrom)
    {
        var s = trainer.Settings;
        var a = trainer.Architecture;
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"train {s.Dataset}: {trainer.Data.Train.Count:N0} training and {trainer.Data.Test.Count:N0} test samples, {trainer.Data.Info.Classes} classes\n");
        sb.Append(CultureInfo.InvariantCulture, $"  model {a.Name}: {a.Describe()} ({a.ParameterCount:N0} parameters, {TrainSettings.NameOf(s.Init)} init)\n");
        sb.Append(CultureInfo.InvariantCulture,
            $"  {Optimizers.NameOf(s.Optimizer)} lr {TrainSettings.Number(s.LearningRate)}, batch {s.BatchSize}, {lastEpoch} epochs, seed {s.Seed}, {CpuBackend.ThreadCount} threads");
        if (trainer.Group is { } group)
            sb.Append(CultureInfo.InvariantCulture, $" per rank, {group.Size} ranks (MPI): each step splits the batch of {s.BatchSize} across them");
        if (resumedFrom is not null) sb.Append(CultureInfo.InvariantCulture, $"\n  resuming {resumedFrom} after epoch {trainer.Epoch}");
        return sb.ToString();
    }

    /// <summary>The run's result as one line of JSON; accuracies are fractions, a diverged (non-finite) loss is null.</summary>
    private static string Json(Trainer trainer, double seconds, int firstEpoch, string? outDirectory, GradientFlowMonitor? monitor)
    {
        var last = trainer.History[^1];
        var s = trainer.Settings;
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteFiniteNumber("loss", last.Loss);
            json.WriteFiniteNumber("accuracy", last.TestAccuracy);
            json.WriteFiniteNumber("train_accuracy", last.TrainAccuracy);
            json.WriteFiniteNumber("test_accuracy", last.TestAccuracy);
            json.WriteFiniteNumber("test_loss", last.TestLoss);
            json.WriteNumber("epochs", trainer.Epoch);
            json.WriteNumber("epochs_this_run", trainer.Epoch - firstEpoch + 1);
            json.WriteNumber("seconds", Math.Round(seconds, 3));
            json.WriteString("dataset", s.Dataset);
            json.WriteString("model", s.Model);
            json.WriteString("optimizer", Optimizers.NameOf(s.Optimizer));
            json.WriteNumber("learning_rate", s.LearningRate);
            json.WriteNumber("batch_size", s.BatchSize);
            json.WriteNumber("seed", s.Seed);
            json.WriteNumber("parameters", trainer.Architecture.ParameterCount);
            json.WriteNumber("train_samples", trainer.Data.Train.Count);
            json.WriteNumber("test_samples", trainer.Data.Test.Count);
            if (outDirectory is not null) json.WriteString("out", Path.GetFullPath(outDirectory));
            if (monitor is not null)
            {
                json.WritePropertyName("diagnose");
                DiagnoseOutput.Json(monitor.Report()).WriteTo(json);
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static UsageException Usage(string message) => new($"backprop train: {message}");
}

/// <summary>A training run stopped because a backward pass produced NaN or ±∞ (see <c>--no-nan-check</c>).</summary>
public sealed class TrainingDivergedException(string message, AnomalyException inner) : Exception(message, inner);
