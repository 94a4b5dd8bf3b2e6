using Backprop.Cli;
using Backprop.Diagnostics;

namespace Backprop.Tests.Cli;

[Collection(nameof(CliRunner))]
public class TextCliTests
{
    [Fact]
    public void Explain_attention_prints_the_engines_forward_values_and_gradients()
    {
        var (code, output) = CliRunner.Run("explain", "attention");
        Assert.Equal(0, code);
        var e = AttentionWorkedExample.Create();
        var figures = new (string Name, Tensor Value)[]
        {
            ("S", e.Scores), ("A", e.Weights), ("O", e.Output), ("L", e.Loss), ("∂L/∂O", e.GradOutput), ("∂L/∂V", e.GradValue),
            ("∂L/∂A", e.GradWeights), ("J1", e.SoftmaxJacobians[0]), ("J2", e.SoftmaxJacobians[1]), ("∂L/∂S", e.GradScores),
            ("∂L/∂Q", e.GradQuery), ("∂L/∂K", e.GradKey),
        };
        foreach (var (name, value) in figures)
        {
            var line = output.Split('\n').FirstOrDefault(l => l.Contains(name, StringComparison.Ordinal) && l.Contains(TensorText.Format(value), StringComparison.Ordinal));
            Assert.True(line is not null, $"no line shows {name} = {TensorText.Format(value)}:\n{output}");
        }
        // The printed ∂L/∂Q is the hand-checked figure (AttentionWorkedExampleTests derives it without the engine).
        Assert.Contains("[[-0.0601, 0.1322], [0.0346, -0.0761]]", output);
        Assert.True(output.IndexOf("∂L/∂V", StringComparison.Ordinal) < output.IndexOf("J1", StringComparison.Ordinal)
            && output.IndexOf("J1", StringComparison.Ordinal) < output.IndexOf("∂L/∂Q", StringComparison.Ordinal), "the backward steps run from the loss towards Q and K");
    }

    [Fact]
    public void Explain_attention_takes_no_options()
    {
        var (code, output) = CliRunner.Run("explain", "attention", "--layers", "2,1");
        Assert.Equal(2, code);
        Assert.Contains("takes no options", output);
    }
}

[Collection(nameof(CliRunner))]
public class TrainTextCliTests
{
    [Theory]
    [InlineData("lstm")]
    [InlineData("transformer")]
    public void Train_text_reports_bits_per_character_saves_the_model_and_generate_samples_it(string family)
    {
        var directory = Path.Combine(Path.GetTempPath(), $"backprop-text-{family}-{Guid.NewGuid():N}");
        var corpus = Path.Combine(Path.GetTempPath(), $"backprop-corpus-{Guid.NewGuid():N}.txt");
        File.WriteAllText(corpus, Backprop.Data.TextCorpus.Generate(4000, seed: 1) + " naïve café 🙂");
        try
        {
            var (code, output) = CliRunner.Run("train", "text", "--file", corpus, "--model", family, "--epochs", "2", "--seq-len", "16",
                "--batch-size", "8", "--width", "16", "--out", directory, "--json");
            Assert.True(code == 0, output);
            Assert.Contains("epoch 1/2  train", output);
            Assert.Contains("epoch 2/2  train", output);
            var json = CliOutput.LastJson(output);
            int vocab = json.GetProperty("vocab_size").GetInt32();
            double bpc = json.GetProperty("validation_bpc").GetDouble();
            Assert.Equal(2, json.GetProperty("validation_bpc_per_epoch").GetArrayLength());
            // Better than a uniform guess over the characters: the model has learned at least their frequencies.
            Assert.True(bpc < Math.Log2(vocab), $"validation {bpc} bpc is no better than uniform ({Math.Log2(vocab)}):\n{output}");
            Assert.True(File.Exists(Path.Combine(directory, "model.safetensors")));
            Assert.True(File.Exists(Path.Combine(directory, "loss.png")));

            var (generated, sample) = CliRunner.Run("generate", "--model", directory, "--prompt", "The café", "--length", "30", "--seed", "3");
            Assert.True(generated == 0, sample);
            var line = sample.Split('\n')[0];
            Assert.StartsWith("The café", line);
            Assert.True(line.EnumerateRunes().Count() >= "The café".Length + 30 - 1, line); // 30 characters follow (a newline may end the line early)
            var (_, again) = CliRunner.Run("generate", "--model", directory, "--prompt", "The café", "--length", "30", "--seed", "3");
            Assert.Equal(sample, again);

            var (unknown, message) = CliRunner.Run("generate", "--model", directory, "--prompt", "The €");
            Assert.Equal(2, unknown);
            Assert.Contains("'€'", message);

            var png = Path.Combine(directory, "attention.png");
            var (drawn, drawOutput) = CliRunner.Run("generate", "--model", directory, "--prompt", "The cat", "--length", "5", "--attention-png", png);
            if (family == "transformer")
            {
                Assert.True(drawn == 0, drawOutput);
                Assert.True(new FileInfo(png).Length > 1000);
            }
            else
            {
                Assert.Equal(2, drawn);
                Assert.Contains("needs a transformer", drawOutput);
            }
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
            File.Delete(corpus);
        }
    }

    [Fact]
    public void Generate_names_a_file_that_is_not_a_language_model()
    {
        var (code, output) = CliRunner.Run("generate", "--model", Path.Combine(Path.GetTempPath(), "no-such-model-dir"));
        Assert.Equal(2, code);
        Assert.Contains("no model at", output);
        (code, output) = CliRunner.Run("train", "text", "--model", "lstm", "--heads", "2");
        Assert.Equal(2, code);
        Assert.Contains("--heads applies to --model transformer", output);
    }
}
