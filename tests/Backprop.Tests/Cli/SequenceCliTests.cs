using System.Text.Json.Nodes;
using Backprop.Data;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

[Collection(nameof(CliRunner))]
public class SequenceCliTests
{
    private static string LastLine(string output) => output.TrimEnd().Split('\n')[^1];

    [Fact]
    public void Diagnose_through_time_flags_the_rnn_and_not_the_lstm()
    {
        using var dir = new TempDirectory();
        var png = dir.File("through-time.png");
        // The smallest run that shows it (about 4 s of CPU): by step 300 the LSTM has learned the 25-step adding problem and
        // passes the error back along its cell state; the RNN's shrinks with every step. Seeded, so the same every time.
        var (code, output) = CliRunner.Run("diagnose", "through-time", "--json", "--length", "25", "--steps", "300", "--png", png);
        Assert.Equal(0, code);
        Assert.Contains("rnn ‖∂L/∂h_t‖", output);
        Assert.Contains("lstm ‖∂L/∂h_t‖", output);
        Assert.StartsWith("{\"rnn\":{\"vanishing\":true,", LastLine(output));
        var json = JsonNode.Parse(LastLine(output))!;
        Assert.True(json["rnn"]!["vanishing"]!.GetValue<bool>());
        Assert.False(json["lstm"]!["vanishing"]!.GetValue<bool>());
        foreach (var run in new[] { "rnn", "lstm" })
        {
            var norms = json[run]!["norms"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
            Assert.Equal(25, norms.Length);
            double ratio = json[run]!["firstToLastRatio"]!.GetValue<double>();
            Assert.True(Math.Abs(ratio - norms[0] / norms[^1]) <= 1e-12 * ratio, $"{run}: ratio {ratio} is not norms[0] / norms[^1]");
            Assert.Equal(ratio < json[run]!["threshold"]!.GetValue<double>(), json[run]!["vanishing"]!.GetValue<bool>());
        }
        Assert.True(json["rnn"]!["horizon"]!.GetValue<int>() < 25);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
    }

    [Fact]
    public void Train_adding_reports_the_test_mse_on_its_last_line()
    {
        using var dir = new TempDirectory();
        // Sequences of 6 steps are short enough for a few hundred steps of an LSTM to beat predicting the mean.
        var (code, output) = CliRunner.Run("train", "adding", "--model", "lstm", "--length", "6", "--hidden", "8", "--train", "1024", "--test", "256",
            "--epochs", "3", "--batch-size", "16", "--lr", "0.01", "--json", "--out", dir.FullName);
        Assert.Equal(0, code);
        Assert.Contains("epoch 3/3", output);
        var json = JsonNode.Parse(LastLine(output))!;
        double testLoss = json["test_loss"]!.GetValue<double>();
        Assert.Equal("lstm", json["model"]!.GetValue<string>());
        Assert.Equal(6, json["length"]!.GetValue<int>());
        Assert.Equal(AddingProblem.MeanBaselineMse, json["baseline_loss"]!.GetValue<double>());
        var history = json["test_losses"]!.AsArray().Select(n => n!.GetValue<double>()).ToArray();
        Assert.Equal(3, history.Length);
        Assert.Equal(history[^1], testLoss);
        Assert.True(testLoss < AddingProblem.MeanBaselineMse / 2, $"test MSE {testLoss} after 3 epochs of length-6 sequences");
        Assert.True(File.Exists(dir.File("loss.png")));
    }

    [Fact]
    public void Train_adding_refuses_an_unknown_model()
    {
        var (code, output) = CliRunner.Run("train", "adding", "--model", "transformer");
        Assert.Equal(2, code);
        Assert.Contains("--model", output);
    }
}
