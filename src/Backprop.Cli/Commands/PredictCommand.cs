using System.Globalization;
using System.Text;
using Backprop.Cli.Training;
using Backprop.Data;
using Backprop.IO;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop predict --model FILE INPUT</c>: rebuilds a model saved by <c>backprop train --out DIR</c> from the
/// file alone and classifies INPUT, an IDX images file (MNIST format, gzip or not) or a CSV of features. Prints one
/// class per line, or, given labels (<c>--labels FILE</c> for IDX, a label column for CSV), the accuracy.
/// </summary>
public static class PredictCommand
{
    public const string HelpText = """
        backprop predict --model FILE INPUT [--labels FILE] [--label-column NAME]

          --model FILE         a model.safetensors written by `backprop train … --out DIR` (or that DIR)
          INPUT                an IDX images file (MNIST format, gzip or not) or a CSV with a header row
          --labels FILE        IDX labels for the images: print the accuracy instead of the predictions
          --label-column NAME  the CSV column holding labels (default: 'label' when the header has it)

        The CSV's feature columns are those the model was trained on, by name (x1, x2 for the 2-D sets), or else
        every column but the label, in order.
        """;

    public static int Run(string[] args)
    {
        if (args is ["--help"] or ["-h"])
        {
            Console.Out.Write(HelpText);
            return 0;
        }
        var options = new CliArguments("predict", args, new HashSet<string> { "model", "labels", "label-column" }, new HashSet<string>());
        var modelPath = options.String("model")
            ?? throw Usage("say which model: --model FILE (a model.safetensors written by `backprop train … --out DIR`).");
        if (options.Positional.Count != 1)
            throw Usage($"give one input file, an IDX images file or a CSV of features; got {(options.Positional.Count == 0 ? "none" : string.Join(" ", options.Positional))}.");
        var inputPath = options.Positional[0];

        if (Directory.Exists(modelPath)) modelPath = Path.Combine(modelPath, RunOutputs.ModelFile);
        if (!File.Exists(modelPath)) throw Usage($"the model file '{modelPath}' does not exist.");
        var classifier = Classifier.Load(modelPath);
        if (!File.Exists(inputPath)) throw Usage($"the input file '{inputPath}' does not exist.");

        var (inputs, labels) = IsIdx(inputPath)
            ? ReadImages(classifier, modelPath, inputPath, options)
            : ReadTable(classifier, modelPath, inputPath, options);
        var predicted = classifier.Predict(inputs);

        if (labels is null)
        {
            var text = new StringBuilder(predicted.Length * 3);
            foreach (var p in predicted) text.Append(p.ToString(CultureInfo.InvariantCulture)).Append('\n');
            Console.Out.Write(text.ToString());
            return 0;
        }
        int correct = 0;
        for (int i = 0; i < predicted.Length; i++)
            if (predicted[i] == labels[i]) correct++;
        double accuracy = predicted.Length == 0 ? 0 : (double)correct / predicted.Length;
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accuracy {accuracy:F4} ({correct}/{predicted.Length})"));
        return 0;
    }

    /// <summary>IDX files start with two zero bytes; gzip files (IDX as MNIST ships it) with 1F 8B. Anything else is read as CSV.</summary>
    private static bool IsIdx(string path)
    {
        Span<byte> start = stackalloc byte[2];
        using var file = File.OpenRead(path);
        if (file.ReadAtLeast(start, 2, throwOnEndOfStream: false) < 2) return false;
        return (start[0] == 0 && start[1] == 0) || (start[0] == 0x1F && start[1] == 0x8B);
    }

    private static (Tensor Inputs, long[]? Labels) ReadImages(Classifier classifier, string modelPath, string path, CliArguments options)
    {
        var shape = classifier.Architecture.InputShape;
        if (classifier.FeatureNames is not null)
            throw Usage($"{modelPath} classifies {shape[0]} features ({string.Join(", ", classifier.FeatureNames)}); give it a CSV with those columns, not an IDX file.");
        if (options.String("label-column") is not null)
            throw Usage("--label-column is for CSV input; give IDX labels with --labels FILE.");
        var images = Mnist.ReadImages(path, flatten: false, normalize: classifier.Transform == InputTransform.MnistStandardize);
        int n = images.Size(0), rows = images.Size(2), columns = images.Size(3);
        bool fits = shape.Count == 1 ? rows * columns == shape[0] : shape.SequenceEqual([1, rows, columns]);
        if (!fits)
            throw new MalformedFileException(path,
                $"holds {rows}×{columns} images; the model in {modelPath} takes [{string.Join(", ", shape)}] ({classifier.Architecture.InputSize} values per sample)");
        if (shape.Count == 1) images = images.Reshape(n, rows * columns);
        if (options.String("labels") is not { } labelsPath) return (images, null);
        if (!File.Exists(labelsPath)) throw Usage($"the labels file '{labelsPath}' does not exist.");
        var labels = Mnist.ReadLabels(labelsPath);
        if (labels.Size(0) != images.Size(0))
            throw new MalformedFileException(labelsPath, $"holds {labels.Size(0)} labels but {path} holds {images.Size(0)} images");
        return (images, labels.ToArray<long>());
    }

    private static (Tensor Inputs, long[]? Labels) ReadTable(Classifier classifier, string modelPath, string path, CliArguments options)
    {
        var model = classifier.Architecture;
        if (classifier.FeatureNames is null)
            throw Usage($"{modelPath} classifies images ({model.InputSize} values each); give it an IDX images file (MNIST format), not a CSV.");
        if (options.String("labels") is not null)
            throw Usage("--labels is for IDX input; a CSV carries its labels in a column (--label-column NAME).");
        var header = CsvFile.ReadHeader(path);
        var labelColumn = options.String("label-column") ?? (header.Contains("label") ? "label" : null);
        if (labelColumn is not null && !header.Contains(labelColumn))
            throw new MalformedFileException(path, $"no column '{labelColumn}' in the header (columns: {string.Join(", ", header)})");

        var others = header.Where(h => h != labelColumn).ToList();
        List<string> features = classifier.FeatureNames.All(others.Contains) ? [.. classifier.FeatureNames] : others;
        if (features.Count != model.InputSize)
            throw new MalformedFileException(path,
                $"has the feature columns {string.Join(", ", others)}; the model in {modelPath} takes {model.InputSize} ({string.Join(", ", classifier.FeatureNames)})");
        if (labelColumn is null) return (CsvFile.ReadFeatures(path, features), null);

        var table = CsvFile.Read(path, labelColumn, CsvTarget.ClassLabel, features);
        if (table.ClassNames is not null)
            throw new MalformedFileException(path, $"column '{labelColumn}' holds names ({string.Join(", ", table.ClassNames)}); the model's classes are numbered 0–{model.Classes - 1}");
        var labels = table.Targets.ToArray<long>();
        int bad = Array.FindIndex(labels, l => l >= model.Classes);
        if (bad >= 0)
            throw new MalformedFileException(path, $"row {bad + 1} has label {labels[bad]}; the model's classes are 0–{model.Classes - 1}");
        return (table.Features, labels);
    }

    private static UsageException Usage(string message) => new($"backprop predict: {message}");
}
