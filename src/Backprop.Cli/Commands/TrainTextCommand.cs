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
/// <c>backprop train text [--file F] [--model lstm|transformer] …</c>: trains a character-level language model on a
/// UTF-8 text (the last 10% held out for validation), printing the validation bits per character after every
/// epoch, and with <c>--out DIR</c> saves the model for <c>backprop generate</c> and a loss chart.
/// </summary>
public static class TrainTextCommand
{
    private static readonly HashSet<string> ValueOptions =
        ["file", "model", "epochs", "batch-size", "seq-len", "lr", "width", "embedding", "layers", "heads", "seed", "limit", "out", "threads", "clip"];

    private static readonly HashSet<string> FlagOptions = ["json"];

    private const string LossChart = "loss.png";

    public static int Run(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.Out.Write(HelpText);
            return 0;
        }
        var options = new CliArguments("train text", args, ValueOptions, FlagOptions);
        if (options.Positional.Count > 0) throw Usage($"unexpected '{string.Join(" ", options.Positional)}'; give the text with --file F.");
        if (options.String("threads") is not null) CpuBackend.ThreadCount = options.Int("threads", 1, min: 1);
        var family = options.Choice("model", LanguageModelFamily.Lstm, LanguageModelSpec.FamilyNames);
        bool lstm = family == LanguageModelFamily.Lstm;
        int epochs = options.Int("epochs", 6, min: 1);
        int batchSize = options.Int("batch-size", 32, min: 1);
        int seqLen = options.Int("seq-len", 64, min: 1);
        double lr = options.Double("lr", lstm ? 3e-3 : 6e-3, min: 0);
        if (!(lr > 0)) throw Usage("--lr must be positive.");
        double clip = options.Double("clip", 1.0, min: 0);
        ulong seed = (ulong)options.Int("seed", 0, min: 0);
        var outDirectory = options.String("out");
        bool json = options.Flag("json");
        if (lstm && options.String("heads") is not null) throw Usage("--heads applies to --model transformer only.");
        if (!lstm && options.String("embedding") is not null) throw Usage("--embedding applies to --model lstm; the transformer's embedding width is --width.");

        var file = options.String("file");
        string text, source;
        if (file is null)
        {
            text = TextCorpus.Generate();
            source = "the generated corpus (TextCorpus.Generate: sentences of a small English grammar; give your own text with --file F)";
        }
        else
        {
            if (!File.Exists(file)) throw Usage($"no file '{file}'.");
            try
            {
                text = File.ReadAllText(file, new UTF8Encoding(false, throwOnInvalidBytes: true));
            }
            catch (DecoderFallbackException e)
            {
                throw Usage($"'{file}' is not valid UTF-8 ({e.Message}).");
            }
            source = file;
        }
        if (options.String("limit") is not null)
        {
            int limit = options.Int("limit", 0, min: 1);
            if (text.Length > limit) text = text[..limit];
        }
        TextDataset data;
        try
        {
            data = new TextDataset(text);
        }
        catch (ArgumentException e)
        {
            throw Usage(e.Message);
        }

        int vocab = data.Vocabulary.Count;
        var spec = lstm
            ? new LanguageModelSpec(family, vocab, options.Int("embedding", 32, min: 1), options.Int("width", 128, min: 1), options.Int("layers", 1, min: 1), 0, 0)
            : new LanguageModelSpec(family, vocab, 0, options.Int("width", 64, min: 1), options.Int("layers", 2, min: 1), options.Int("heads", 4, min: 1), seqLen);
        if (!lstm) spec = spec with { EmbeddingDim = spec.Width };
        if (!lstm && spec.Width % spec.Heads != 0) throw Usage($"--width {spec.Width} must divide into --heads {spec.Heads}.");
        var generator = new Generator(seed);
        var (module, model) = spec.Build(generator);
        var parameters = module.Parameters().ToList();
        var optimizer = new Adam(parameters, learningRate: lr);
        long parameterCount = parameters.Sum(p => (long)p.NumElements);

        var console = Console.Out;
        console.WriteLine($"train text: {source}");
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {data.Train.Length:N0} training and {data.Validation.Length:N0} validation characters, {vocab} distinct"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  model {spec.FamilyName}: {spec.Describe()} ({parameterCount:N0} parameters)"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  adam lr {lr}, batch {batchSize} × {seqLen} characters, gradient norm clipped at {clip}, {epochs} epochs, seed {seed}, {CpuBackend.ThreadCount} threads"));
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  a uniform guess costs log2({vocab}) = {Math.Log2(vocab):F3} bits per character"));

        var trainBpc = new List<double>();
        var validationBpc = new List<double>();
        var clock = Stopwatch.StartNew();
        var samples = new Generator(seed + 1);
        for (int epoch = 1; epoch <= epochs; epoch++)
        {
            var epochClock = Stopwatch.StartNew();
            module.Train();
            double sum = 0;
            long count = 0;
            foreach (var (inputs, targets) in data.TrainBatches(batchSize, seqLen, generator))
            {
                var logits = model.Logits(inputs);
                var loss = Functional.CrossEntropy(logits.Reshape(-1, vocab), targets.Reshape(-1));
                optimizer.ZeroGrad();
                loss.Backward();
                if (clip > 0) GradientClipping.ClipGradNorm(parameters, clip);
                optimizer.Step();
                double value = loss.ToArray<double>()[0];
                if (!double.IsFinite(value))
                    throw new InvalidOperationException($"the loss became {value} in epoch {epoch}; lower --lr.");
                sum += value * targets.NumElements;
                count += targets.NumElements;
            }
            trainBpc.Add(sum / count / Math.Log(2));
            validationBpc.Add(ValidationBitsPerCharacter(module, model, data, batchSize, seqLen));
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"epoch {epoch}/{epochs}  train {trainBpc[^1]:F4} bpc  validation {validationBpc[^1]:F4} bpc  ({epochClock.Elapsed.TotalSeconds:F1}s)"));
        }
        double seconds = clock.Elapsed.TotalSeconds;
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"validation: {validationBpc[^1]:F4} bits per character after {epochs} epochs ({seconds:F1}s)"));

        // A short sample shows what the numbers mean; it starts from the first validation character.
        module.Eval();
        var prompt = Tensor.FromArray(new[] { data.Validation.Span[0] }, 1, 1);
        var sample = TextSampling.Generate(model, prompt, 160, temperature: 0.8, generator: samples);
        console.WriteLine("sample (temperature 0.8): " + Printable(data.Vocabulary.Decode(prompt.ToArray<long>().Concat(sample.ToArray<long>()))));

        if (outDirectory is not null)
        {
            var extra = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["backprop.trained_with"] = "backprop train text " + string.Join(" ", args),
                ["backprop.epochs"] = epochs.ToString(CultureInfo.InvariantCulture),
                ["backprop.validation_bpc"] = validationBpc[^1].ToString("R", CultureInfo.InvariantCulture),
            };
            LanguageModelFile.Save(outDirectory, module, spec, data.Vocabulary, extra);
            Charts.Lines(Path.Combine(outDirectory, LossChart), $"Loss: {spec.FamilyName} character model", "epoch", "bits per character",
                [("train (mean over the epoch)", trainBpc), ("validation", validationBpc)]);
            console.WriteLine($"saved in {outDirectory}: {LanguageModelFile.FileName}, {LossChart}; sample it with: backprop generate --model {outDirectory} --prompt \"…\"");
        }
        if (json) console.WriteLine(Json(spec, data, parameterCount, epochs, seconds, trainBpc, validationBpc, outDirectory));
        return 0;
    }

    /// <summary>Mean cross-entropy over the validation windows, in bits (the loss in nats / ln 2), without a graph.</summary>
    public static double ValidationBitsPerCharacter(Module module, ILanguageModel model, TextDataset data, int batchSize, int seqLen)
    {
        bool training = module.IsTraining;
        module.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            double sum = 0;
            long count = 0;
            foreach (var (inputs, targets) in data.ValidationBatches(batchSize, seqLen))
            {
                var loss = Functional.CrossEntropy(model.Logits(inputs).Reshape(-1, model.VocabSize), targets.Reshape(-1), reduction: Reduction.Sum);
                sum += loss.ToArray<double>()[0];
                count += targets.NumElements;
            }
            return sum / count / Math.Log(2);
        }
        finally
        {
            module.Train(training);
        }
    }

    /// <summary>Newlines and tabs shown as ⏎ and ⇥, so a sample stays on one line.</summary>
    public static string Printable(string text) => text.Replace("\r\n", "⏎").Replace('\n', '⏎').Replace('\t', '⇥');

    private static string Json(LanguageModelSpec spec, TextDataset data, long parameters, int epochs, double seconds,
        List<double> trainBpc, List<double> validationBpc, string? outDirectory)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream))
        {
            json.WriteStartObject();
            json.WriteNumber("validation_bpc", validationBpc[^1]);
            json.WriteNumber("train_bpc", trainBpc[^1]);
            json.WriteStartArray("validation_bpc_per_epoch");
            foreach (var v in validationBpc) json.WriteNumberValue(v);
            json.WriteEndArray();
            json.WriteNumber("epochs", epochs);
            json.WriteNumber("seconds", Math.Round(seconds, 3));
            json.WriteString("model", spec.FamilyName);
            json.WriteNumber("parameters", parameters);
            json.WriteNumber("vocab_size", spec.VocabSize);
            json.WriteNumber("train_characters", data.Train.Length);
            json.WriteNumber("validation_characters", data.Validation.Length);
            if (outDirectory is not null) json.WriteString("out", Path.GetFullPath(outDirectory));
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public const string HelpText = """
        backprop train text [options]

          --file F             a UTF-8 text (default: a generated corpus of simple English sentences); the last 10%
                               of its characters are held out for validation
          --model NAME         lstm (Embedding → LSTM → Linear, default) or transformer (a small GPT)
          --epochs N           passes over the training text (default 6)
          --batch-size N       windows per step (default 32)
          --seq-len N          characters per window (default 64); the transformer's context length
          --lr RATE            Adam's learning rate (default 0.003 for lstm, 0.006 for transformer)
          --width N            the LSTM's hidden size (default 128) or the transformer's d_model (default 64)
          --embedding N        lstm: the embedding width (default 32)
          --layers N           LSTM layers (default 1) or transformer blocks (default 2)
          --heads N            transformer: attention heads (default 4)
          --clip NORM          clip the gradient's global norm (default 1; 0 turns it off)
          --limit N            use only the first N characters of the text
          --seed N             seed of the weights and the window order (default 0)
          --out DIR            save model.safetensors (with the vocabulary) and loss.png there
          --threads N          CPU threads
          --json               the result as one JSON object on the last line

        Prints the validation bits per character after every epoch (the mean cross-entropy in bits; a uniform
        guess over V characters costs log2 V). Sample a saved model with `backprop generate --model DIR`.

        """;

    private static UsageException Usage(string message) => new($"backprop train text: {message}");
}
