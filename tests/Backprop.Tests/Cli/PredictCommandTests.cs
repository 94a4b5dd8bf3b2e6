using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Backprop.Cli.Training;
using Backprop.Data;
using Backprop.Tests.Data;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

[Collection(nameof(CliRunner))]
public partial class PredictCommandTests
{
    [GeneratedRegex(@"^accuracy (\d\.\d{4}) \((\d+)/(\d+)\)$")]
    private static partial Regex AccuracyLine();

    private static (int Correct, int Total) ParseAccuracy(string output)
    {
        var match = AccuracyLine().Match(CliOutput.Lines(output)[^1]);
        Assert.True(match.Success, output);
        return (int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Predict_on_a_csv_of_the_test_set_agrees_with_the_accuracy_training_reported()
    {
        using var dir = new TempDirectory();
        var (code, output) = CliRunner.Run("train", "moons", "--epochs", "3", "--out", dir.FullName, "--json");
        Assert.Equal(0, code);
        double testAccuracy = CliOutput.LastJson(output).GetProperty("test_accuracy").GetDouble();

        // The run's test set, rebuilt the way the train command builds it.
        var info = DatasetCatalog.Get("moons");
        var architecture = ModelRegistry.Resolve(info, "mlp", info.Defaults.Hidden);
        var test = (TensorDataset)DatasetCatalog.Load(info, architecture, RunSeeds.From(0), null, null).Test;
        var points = test.Tensors[0].ToArray<float>();
        var labels = test.Tensors[1].ToArray<long>();
        var withLabels = new StringBuilder("label,x2,x1\n");
        var withoutLabels = new StringBuilder("x1,x2\n");
        for (int i = 0; i < labels.Length; i++)
        {
            string x1 = points[2 * i].ToString("R", CultureInfo.InvariantCulture), x2 = points[2 * i + 1].ToString("R", CultureInfo.InvariantCulture);
            withLabels.Append(CultureInfo.InvariantCulture, $"{labels[i]},{x2},{x1}\n");
            withoutLabels.Append(CultureInfo.InvariantCulture, $"{x1},{x2}\n");
        }
        File.WriteAllText(dir.File("test.csv"), withLabels.ToString());
        File.WriteAllText(dir.File("inputs.csv"), withoutLabels.ToString());

        var (predictCode, predictOutput) = CliRunner.Run("predict", "--model", dir.File("model.safetensors"), dir.File("test.csv"));
        Assert.Equal(0, predictCode);
        var (correct, total) = ParseAccuracy(predictOutput);
        Assert.Equal(labels.Length, total);
        Assert.Equal((int)Math.Round(testAccuracy * total), correct);

        var (linesCode, linesOutput) = CliRunner.Run("predict", "--model", dir.FullName, dir.File("inputs.csv"));
        Assert.Equal(0, linesCode);
        var expected = Classifier.Load(dir.File("model.safetensors")).Predict(test.Tensors[0]);
        Assert.Equal(expected.Select(c => c.ToString(CultureInfo.InvariantCulture)), CliOutput.Lines(linesOutput));
    }

    [Theory]
    [InlineData("mlp")]
    [InlineData("cnn")]
    public void Predict_on_idx_images_agrees_with_the_accuracy_training_reported(string model)
    {
        using var dir = new TempDirectory();
        const int n = 200;
        var (code, output) = CliRunner.Run("train", "mnist", "--model", model, "--limit", n.ToString(CultureInfo.InvariantCulture), "--epochs", "1",
            "--out", dir.FullName, "--json");
        Assert.Equal(0, code);
        double testAccuracy = CliOutput.LastJson(output).GetProperty("test_accuracy").GetDouble();

        // The first n test images and labels (the run's test set) as uncompressed IDX files.
        var images = IdxFile.Read(BundledMnist.File("test-images-idx3-ubyte.gz"));
        var labels = IdxFile.Read(BundledMnist.File("test-labels-idx1-ubyte.gz"));
        WriteIdx(dir.File("images.idx"), [n, 28, 28], images.RawData[..(n * 784)]);
        WriteIdx(dir.File("labels.idx"), [n], labels.RawData[..n]);

        var (predictCode, predictOutput) = CliRunner.Run("predict", "--model", dir.File("model.safetensors"), dir.File("images.idx"),
            "--labels", dir.File("labels.idx"));
        Assert.Equal(0, predictCode);
        var (correct, total) = ParseAccuracy(predictOutput);
        Assert.Equal(n, total);
        Assert.Equal((int)Math.Round(testAccuracy * n), correct);

        var (linesCode, linesOutput) = CliRunner.Run("predict", "--model", dir.File("model.safetensors"), dir.File("images.idx"));
        Assert.Equal(0, linesCode);
        var lines = CliOutput.Lines(linesOutput);
        Assert.Equal(n, lines.Length);
        var truth = labels.RawData[..n].ToArray();
        Assert.Equal(correct, lines.Where((line, i) => line == truth[i].ToString(CultureInfo.InvariantCulture)).Count());
    }

    [Fact]
    public void Missing_corrupt_and_mismatched_files_end_with_one_line_naming_the_file()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, CliRunner.Run("train", "xor", "--epochs", "2", "--out", dir.FullName).ExitCode);
        var model = dir.File("model.safetensors");
        File.WriteAllText(dir.File("xor.csv"), "x1,x2,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n");
        var csv = dir.File("xor.csv");

        CliOutput.AssertOneLineError(CliRunner.Run("predict", csv), "say which model: --model FILE");
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", model), "give one input file");
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", dir.File("nope.safetensors"), csv), "the model file '" + dir.File("nope.safetensors") + "' does not exist");
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", model, dir.File("nope.csv")), "does not exist");

        var bytes = File.ReadAllBytes(model);
        File.WriteAllBytes(dir.File("truncated.safetensors"), bytes[..(bytes.Length / 2)]);
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", dir.File("truncated.safetensors"), csv), "truncated.safetensors: ");
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", dir.File("checkpoint.safetensors"), csv), "a training checkpoint, not a model");
        Backprop.IO.SafeTensors.Save(dir.File("plain.safetensors"), new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros(2) });
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", dir.File("plain.safetensors"), csv), "plain.safetensors: not a Backprop model");

        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", model, BundledMnist.File("test-images-idx3-ubyte.gz")),
            "classifies 2 features (x1, x2); give it a CSV");
        File.WriteAllText(dir.File("wide.csv"), "a,b,c\n1,2,3\n");
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", model, dir.File("wide.csv")), "wide.csv: has the feature columns a, b, c");
        File.WriteAllText(dir.File("bad.csv"), "x1,x2\n0,zero\n");
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", model, dir.File("bad.csv")), "bad.csv: line 2, column 2 ('x2'): 'zero' is not a number");

        Assert.Equal(0, CliRunner.Run("train", "mnist", "--limit", "64", "--epochs", "1", "--out", dir.File("mnist")).ExitCode);
        var mnist = dir.File("mnist");
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", mnist, BundledMnist.File("test-labels-idx1-ubyte.gz")), "is this a labels file?");
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", mnist, csv), "give it an IDX images file");
        WriteIdx(dir.File("small.idx"), [2, 4, 4], new byte[32]);
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", mnist, dir.File("small.idx")), "small.idx: holds 4×4 images");
        WriteIdx(dir.File("three.idx"), [3], new byte[3]);
        CliOutput.AssertOneLineError(CliRunner.Run("predict", "--model", mnist, BundledMnist.File("test-images-idx3-ubyte.gz"), "--labels", dir.File("three.idx")),
            "three.idx: holds 3 labels but");
    }

    /// <summary>An uncompressed IDX file of unsigned bytes.</summary>
    private static void WriteIdx(string path, int[] dims, ReadOnlySpan<byte> data)
    {
        var header = new byte[4 + 4 * dims.Length];
        header[2] = 0x08;
        header[3] = (byte)dims.Length;
        for (int d = 0; d < dims.Length; d++) BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * d), dims[d]);
        using var file = File.Create(path);
        file.Write(header);
        file.Write(data);
    }
}
