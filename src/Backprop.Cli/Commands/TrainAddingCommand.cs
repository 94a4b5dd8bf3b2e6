using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Backprop.Backends.Cpu;
using Backprop.Cli.Plotting;
using Backprop.Cli.Training;
using Backprop.Data;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop train adding</c>: the adding problem (<see cref="AddingProblem"/>) learned by an LSTM, a GRU or a tanh RNN
/// reading the whole sequence; reports the test mean squared error per epoch against the predict-the-mean baseline.
/// </summary>
public static class TrainAddingCommand
{
    private static readonly HashSet<string> ValueOptions = ["model", "hidden", "length", "epochs", "batch-size", "lr", "train", "test", "seed", "threads", "clip", "forget-bias", "out"];

    private static readonly HashSet<string> FlagOptions = ["json"];

    public static string HelpText() => """
        backprop train adding [options]

          The adding problem (Hochreiter & Schmidhuber 1997): sequences of (value, marker) pairs, values uniform in
          [0, 1), two steps marked (one in each half); the target is the sum of the two marked values. Predicting the
          mean scores a test MSE of 1/6 ≈ 0.167; a model solves it below 0.01.

          --model lstm|rnn|gru  the recurrent layer (default lstm; rnn is a tanh Elman RNN)
          --hidden N            hidden units (default 16)
          --length T            sequence length (default 100)
          --epochs N            passes over the training set (default 16)
          --batch-size N        sequences per step (default 32)
          --lr RATE             Adam's learning rate (default 0.01)
          --clip NORM           clip the gradient norm before each step (default 1; 0 turns it off)
          --forget-bias B       lstm: the forget gates' initial bias (default 1, as Keras's unit_forget_bias;
                                "pytorch" keeps PyTorch's uniform draw)
          --train N, --test N   training and test sequences (default 4096 and 1024)
          --seed N              seed of the data and the initial weights (default 0)
          --threads N           CPU threads
          --out DIR             write loss.png there (train and test MSE per epoch)
          --json                the result as one JSON object on the last line (test_loss is the test MSE)

        """;

    public static int Run(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.Out.Write(HelpText());
            return 0;
        }
        var options = new CliArguments("train adding", args, ValueOptions, FlagOptions);
        if (options.Positional.Count > 0) throw new UsageException($"backprop train adding: unexpected argument '{options.Positional[0]}'.");
        if (options.String("threads") is not null) CpuBackend.ThreadCount = options.Int("threads", 1, min: 1);
        var kind = options.Choice("model", RecurrentKind.Lstm, SequenceRegressor.Kinds);
        int hidden = options.Int("hidden", 16, min: 1);
        int length = options.Int("length", 100, min: 2);
        int epochs = options.Int("epochs", 16, min: 1);
        int batchSize = options.Int("batch-size", 32, min: 1);
        double learningRate = options.Double("lr", 0.01, min: double.Epsilon);
        double clip = options.Double("clip", 1, min: 0);
        double? forgetBias = options.String("forget-bias") is "pytorch" ? null : options.Double("forget-bias", 1);
        int trainCount = options.Int("train", 4096, min: 1);
        int testCount = options.Int("test", 1024, min: 1);
        ulong seed = (ulong)options.Int("seed", 0, min: 0);
        bool json = options.Flag("json");
        var outDirectory = options.String("out");

        var train = AddingProblem.Create(trainCount, length, seed);
        var test = AddingProblem.Create(testCount, length, seed + 1);
        var model = new SequenceRegressor(kind, 2, hidden, new Generator(seed + 2), forgetBias);
        var optimizer = new Adam(model.Parameters(), learningRate: learningRate);
        var loader = new DataLoader(train, batchSize, shuffle: true, generator: new Generator(seed + 3));
        int parameters = model.Parameters().Sum(p => p.NumElements);
        var console = Console.Out;
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"train adding: {trainCount:N0} training and {testCount:N0} test sequences of {length} steps; predicting the mean scores MSE {AddingProblem.MeanBaselineMse:F4}"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  model {SequenceRegressor.NameOf(kind)}: {model.Recurrent.GetType().Name}(2 → {hidden}) → Linear({hidden} → 1) on the last step ({parameters:N0} parameters)"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  adam lr {learningRate}, batch {batchSize}, clip {(clip > 0 ? clip.ToString(CultureInfo.InvariantCulture) : "off")}, " +
            $"{(kind == RecurrentKind.Lstm ? $"forget bias {(forgetBias is { } b ? b.ToString(CultureInfo.InvariantCulture) : "pytorch")}, " : "")}{epochs} epochs, seed {seed}, {CpuBackend.ThreadCount} threads"));

        var trainLosses = new List<double>();
        var testLosses = new List<double>();
        var clock = Stopwatch.StartNew();
        using var nanCheck = Autograd.DetectNonFinite();
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            model.Train();
            double sum = 0;
            int seen = 0;
            foreach (var (inputs, targets) in loader)
            {
                optimizer.ZeroGrad();
                var loss = Functional.MseLoss(model.Forward(inputs), targets);
                loss.Backward();
                if (clip > 0) GradientClipping.ClipGradNorm(model.Parameters(), clip);
                optimizer.Step();
                sum += loss.Item() * inputs.Size(0);
                seen += inputs.Size(0);
            }
            trainLosses.Add(sum / seen);
            testLosses.Add(Evaluate(model, test));
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch.ToString(CultureInfo.InvariantCulture).PadLeft(epochs.ToString(CultureInfo.InvariantCulture).Length)}/{epochs}  train MSE {trainLosses[^1]:F4}  test MSE {testLosses[^1]:F4}  {TrainingReport.Seconds(epochClock.Elapsed.TotalSeconds)}"));
        }
        double seconds = clock.Elapsed.TotalSeconds;
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"adding ({length} steps): {SequenceRegressor.NameOf(kind)} test MSE {testLosses[^1]:F4} (mean baseline {AddingProblem.MeanBaselineMse:F4}; solved below 0.01: {(testLosses[^1] < 0.01 ? "yes" : "no")}) after {epochs} epochs, {seconds:F1}s"));
        if (outDirectory is not null)
        {
            Directory.CreateDirectory(outDirectory);
            var png = Path.Combine(outDirectory, "loss.png");
            Charts.Lines(png, $"adding problem, T = {length}: {SequenceRegressor.NameOf(kind)}", "epoch", "MSE",
                [("train", trainLosses), ("test", testLosses), ("predict the mean", Enumerable.Repeat(AddingProblem.MeanBaselineMse, epochs).ToList())], logY: true);
            console.WriteLine($"wrote {Path.GetFullPath(png)}");
        }
        if (json)
            console.WriteLine(Json(kind, hidden, length, epochs, batchSize, learningRate, seed, parameters, trainCount, testCount, trainLosses, testLosses, seconds));
        return 0;
    }

    /// <summary>The mean squared error over <paramref name="data"/>, in batches, without a graph.</summary>
    private static double Evaluate(SequenceRegressor model, TensorDataset data)
    {
        model.Eval();
        double sum = 0;
        using (Autograd.NoGrad())
            foreach (var (inputs, targets) in new DataLoader(data, 512))
                sum += Functional.MseLoss(model.Forward(inputs), targets, Reduction.Sum).Item();
        return sum / data.Count;
    }

    private static string Json(RecurrentKind kind, int hidden, int length, int epochs, int batchSize, double learningRate, ulong seed, int parameters,
        int trainCount, int testCount, List<double> trainLosses, List<double> testLosses, double seconds)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteFiniteNumber("test_loss", testLosses[^1]);
            json.WriteFiniteNumber("train_loss", trainLosses[^1]);
            json.WriteNumber("baseline_loss", AddingProblem.MeanBaselineMse);
            json.WriteBoolean("solved", testLosses[^1] < 0.01);
            json.WriteString("dataset", "adding");
            json.WriteString("model", SequenceRegressor.NameOf(kind));
            json.WriteNumber("hidden", hidden);
            json.WriteNumber("length", length);
            json.WriteNumber("epochs", epochs);
            json.WriteNumber("batch_size", batchSize);
            json.WriteNumber("learning_rate", learningRate);
            json.WriteNumber("seed", seed);
            json.WriteNumber("parameters", parameters);
            json.WriteNumber("train_samples", trainCount);
            json.WriteNumber("test_samples", testCount);
            json.WriteNumber("seconds", Math.Round(seconds, 3));
            json.WriteStartArray("test_losses");
            foreach (var l in testLosses)
            {
                if (double.IsFinite(l)) json.WriteNumberValue(l);
                else json.WriteNullValue();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
