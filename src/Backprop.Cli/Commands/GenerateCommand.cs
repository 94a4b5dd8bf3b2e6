using System.Globalization;
using Backprop.Backends.Cpu;
using Backprop.Cli.Plotting;
using Backprop.Cli.Training;
using Backprop.Nn;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop generate --model DIR [--prompt "…"] [--length N] [--temperature T] [--top-k K] [--seed S]
/// [--attention-png FILE]</c>: continues a prompt with a character model saved by <c>backprop train text --out DIR</c>.
/// </summary>
public static class GenerateCommand
{
    private static readonly HashSet<string> ValueOptions = ["model", "prompt", "length", "temperature", "top-k", "seed", "attention-png", "threads"];

    public static int Run(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.Out.Write(HelpText);
            return 0;
        }
        var options = new CliArguments("generate", args, ValueOptions, new HashSet<string>());
        if (options.Positional.Count > 0) throw Usage($"unexpected '{string.Join(" ", options.Positional)}'; quote the prompt: --prompt \"…\".");
        if (options.String("threads") is not null) CpuBackend.ThreadCount = options.Int("threads", 1, min: 1);
        var directory = options.String("model") ?? throw Usage("say which model: --model DIR (written by `backprop train text --out DIR`).");
        int length = options.Int("length", 200, min: 0);
        double temperature = options.Double("temperature", 0.8, min: 0);
        if (double.IsInfinity(temperature)) throw Usage("--temperature must be finite.");
        int? topK = options.String("top-k") is null ? null : options.Int("top-k", 0, min: 1);
        var generator = new Generator((ulong)options.Int("seed", 0, min: 0));
        var attentionPng = options.String("attention-png");

        var (_, model, spec, vocabulary) = LanguageModelFile.Load(directory);
        if (topK > vocabulary.Count) throw Usage($"--top-k {topK} exceeds the model's {vocabulary.Count} characters.");
        var prompt = options.String("prompt") ?? vocabulary.Symbols[0];
        if (prompt.Length == 0) throw Usage("--prompt must hold at least one character.");
        long[] ids;
        try
        {
            ids = vocabulary.Encode(prompt);
        }
        catch (ArgumentException e)
        {
            throw Usage($"the prompt has a character the model never saw: {e.Message.Replace("CharVocabulary: ", "")}");
        }
        if (attentionPng is not null && model is not TransformerLanguageModel)
            throw Usage($"--attention-png needs a transformer model; {directory} holds an {spec.FamilyName} model.");

        var tokens = Tensor.FromArray(ids, 1, ids.Length);
        var sample = TextSampling.Generate(model, tokens, length, temperature, topK, generator);
        Console.Out.WriteLine(prompt + vocabulary.Decode(sample.ToArray<long>()));

        if (attentionPng is not null)
        {
            var gpt = (TransformerLanguageModel)model;
            // The maps cover the prompt (its last context-length characters, if it is longer).
            int shown = Math.Min(ids.Length, gpt.ContextLength);
            var window = ids[^shown..];
            var maps = gpt.AttentionMaps(Tensor.FromArray(window, 1, shown));
            var labels = window.Select(id => vocabulary.Symbols[(int)id]).ToArray();
            AttentionCharts.Heatmaps(attentionPng, maps.Select(m => m.Select(0, 0)).ToList(), labels);
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"attention of {maps.Count} blocks × {gpt.NumHeads} heads over the {shown}-character prompt written to {attentionPng}"));
        }
        return 0;
    }

    public const string HelpText = """
        backprop generate --model DIR [options]

          --model DIR          a model saved by `backprop train text --out DIR` (or its model.safetensors)
          --prompt TEXT        the text to continue (default: the model's first character); every character must
                               be in the model's vocabulary
          --length N           characters to generate (default 200)
          --temperature T      divides the logits before sampling: below 1 more conservative, above 1 more
                               varied, 0 always the most likely character (default 0.8)
          --top-k K            sample among the K most likely characters only
          --seed N             seed of the sampling (default 0)
          --attention-png FILE transformer models: a heat map of every head's attention over the prompt
          --threads N          CPU threads

        """;

    private static UsageException Usage(string message) => new($"backprop generate: {message}");
}
