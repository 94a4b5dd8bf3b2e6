using Backprop.Cli.Training;
using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

[Collection(nameof(CliRunner))]
public class TrainCommandTests
{
    [Fact]
    public void Train_xor_reaches_full_accuracy_printing_the_loss_and_ends_with_one_json_line()
    {
        var (code, output) = CliRunner.Run("train", "xor", "--json");

        Assert.Equal(0, code);
        Assert.Contains("Linear(2, 4) → Relu → Linear(4, 4) → Relu → Linear(4, 1) → Sigmoid", output);
        Assert.Contains("epoch   1/500  loss", output);
        Assert.Contains("epoch 500/500  loss", output);
        var json = CliOutput.LastJson(output);
        foreach (var key in new[] { "loss", "accuracy", "train_accuracy", "test_accuracy", "epochs", "seconds" })
            Assert.True(json.TryGetProperty(key, out _), $"the JSON line lacks '{key}'");
        Assert.Equal(1.0, json.GetProperty("accuracy").GetDouble());
        Assert.Equal(1.0, json.GetProperty("train_accuracy").GetDouble());
        Assert.Equal(1.0, json.GetProperty("test_accuracy").GetDouble());
        Assert.Equal(500, json.GetProperty("epochs").GetInt32());
        Assert.InRange(json.GetProperty("loss").GetDouble(), 0, 0.05);
        Assert.True(json.GetProperty("seconds").GetDouble() >= 0);
    }

    [Fact]
    public void A_2d_set_trains_to_high_accuracy_in_a_few_epochs_with_plain_lines_and_a_table()
    {
        var (code, output) = CliRunner.Run("train", "moons", "--epochs", "8", "--json");

        Assert.Equal(0, code);
        var json = CliOutput.LastJson(output);
        Assert.True(json.GetProperty("test_accuracy").GetDouble() >= 0.95, output);
        Assert.True(json.GetProperty("train_accuracy").GetDouble() >= 0.95, output);
        Assert.Equal(8, CliOutput.Lines(output).Count(l => l.StartsWith("epoch ", StringComparison.Ordinal)));
        Assert.Contains("train accuracy", output);
        Assert.DoesNotContain("\u001b[", output);
    }

    [Fact]
    public void Diagnose_reports_gradient_flow_per_layer_and_charts_the_norms()
    {
        var dir = Directory.CreateTempSubdirectory("backprop-diagnose");
        try
        {
            var (code, output) = CliRunner.Run("train", "moons", "--epochs", "2", "--diagnose", "--json", "--out", dir.FullName);

            Assert.Equal(0, code);
            Assert.Contains("gradient flow per layer", output);
            Assert.Contains("dead ReLU", output);
            var diagnose = CliOutput.LastJson(output).GetProperty("diagnose");
            Assert.False(diagnose.GetProperty("vanishing").GetBoolean());
            Assert.False(diagnose.GetProperty("exploding").GetBoolean());
            var png = File.ReadAllBytes(Path.Combine(dir.FullName, "grad-norms.png"));
            Assert.Equal(0x89, png[0]);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("momentum")]
    [InlineData("adamw")]
    [InlineData("rmsprop")]
    public void Every_optimizer_trains_circles(string optimizer)
    {
        var lr = optimizer is "sgd" or "momentum" ? "0.1" : "0.01";
        var (code, output) = CliRunner.Run("train", "circles", "--epochs", "10", "--optimizer", optimizer, "--lr", lr, "--json");

        Assert.Equal(0, code);
        Assert.Equal(optimizer, CliOutput.LastJson(output).GetProperty("optimizer").GetString());
        Assert.True(CliOutput.LastJson(output).GetProperty("test_accuracy").GetDouble() >= 0.9, output);
    }

    [Fact]
    public void Out_writes_the_model_the_checkpoint_and_png_charts()
    {
        using var dir = new TempDirectory();
        var (code, output) = CliRunner.Run("train", "spiral", "--epochs", "2", "--hidden", "8", "--out", dir.FullName);

        Assert.Equal(0, code);
        Assert.Equal(["accuracy.png", "checkpoint.safetensors", "decision_boundary.png", "loss.png", "model.safetensors"], dir.Entries());
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        foreach (var chart in new[] { "loss.png", "accuracy.png", "decision_boundary.png" })
            Assert.Equal(png, File.ReadAllBytes(dir.File(chart))[..8]);

        var model = Classifier.Load(dir.File("model.safetensors"));
        Assert.Equal("spiral", model.Dataset);
        Assert.Equal("Linear(2, 8) → Relu → Linear(8, 3)", model.Architecture.Describe());
        Assert.Equal(["x1", "x2"], model.FeatureNames);

        var checkpoint = Checkpoint.Load(dir.File("checkpoint.safetensors"));
        Assert.Equal(Trainer.Format, checkpoint.Metadata["backprop.checkpoint"]);
        Assert.Equal("2", checkpoint.Metadata["trainer.epoch"]);
        Assert.Equal("spiral", checkpoint.Metadata["run.dataset"]);
        Assert.Contains("optimizer.state.0.exp_avg", checkpoint.Tensors.Keys);
        Assert.Contains("loader.generator", checkpoint.Metadata.Keys);
        Assert.Equal(new Shape(2), checkpoint.Tensors["history.test_accuracy"].Shape);
        Assert.Contains("saved in", output);
    }

    [Theory]
    [InlineData("moons", "4", "2", new string[0])]
    [InlineData("mnist", "2", "1", new[] { "--limit", "128", "--batch-size", "32" })]
    [InlineData("mnist", "2", "1", new[] { "--model", "cnn", "--limit", "128", "--batch-size", "32" })]
    public void Resuming_a_checkpoint_gives_the_same_weights_bit_for_bit(string dataset, string total, string first, string[] extra)
    {
        using var once = new TempDirectory();
        using var twice = new TempDirectory();
        Assert.Equal(0, CliRunner.Run(["train", dataset, "--epochs", total, "--out", once.FullName, .. extra]).ExitCode);
        Assert.Equal(0, CliRunner.Run(["train", dataset, "--epochs", first, "--out", twice.FullName, .. extra]).ExitCode);
        var (code, output) = CliRunner.Run("train", "--resume", twice.File("checkpoint.safetensors"), "--epochs", total, "--out", twice.FullName, "--json");

        Assert.Equal(0, code);
        Assert.Contains($"resuming {twice.File("checkpoint.safetensors")} after epoch {first}", output);
        var json = CliOutput.LastJson(output);
        Assert.Equal(int.Parse(total), json.GetProperty("epochs").GetInt32());
        Assert.Equal(int.Parse(total) - int.Parse(first), json.GetProperty("epochs_this_run").GetInt32());

        var expected = SafeTensors.Load(once.File("model.safetensors")).Tensors;
        var actual = SafeTensors.Load(twice.File("model.safetensors")).Tensors;
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, tensor) in expected)
            Assert.True(tensor.ToArray<float>().SequenceEqual(actual[key].ToArray<float>()), $"{dataset}: {key} differs after resuming");
        Assert.Equal(File.ReadAllBytes(once.File("model.safetensors")), File.ReadAllBytes(twice.File("model.safetensors")));
    }

    [Fact]
    public void Resuming_refuses_another_dataset_model_or_setting_and_a_finished_run()
    {
        using var dir = new TempDirectory();
        Assert.Equal(0, CliRunner.Run("train", "circles", "--epochs", "1", "--out", dir.FullName).ExitCode);
        var checkpoint = dir.File("checkpoint.safetensors");

        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--resume", checkpoint, "--epochs", "3"),
            "it is a checkpoint of `train circles --model mlp`, not of moons");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "circles", "--resume", checkpoint, "--model", "cnn", "--epochs", "3"),
            "it is a run of the mlp model on circles, not cnn");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "--resume", checkpoint, "--optimizer", "sgd", "--epochs", "3"),
            "with --optimizer sgd: the run has --optimizer adam");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "--resume", checkpoint, "--hidden", "8,8", "--epochs", "3"),
            "with --hidden 8,8: the run has --hidden 16,16");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "--resume", checkpoint, "--epochs", "1"),
            "has already trained 1 epochs");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "--resume", dir.File("model.safetensors"), "--epochs", "3"),
            "not a training checkpoint");
    }

    [Fact]
    public void Mnist_trains_on_a_small_slice_of_the_bundled_subset()
    {
        var (code, output) = CliRunner.Run("train", "mnist", "--limit", "256", "--batch-size", "16", "--epochs", "1", "--json");

        Assert.Equal(0, code);
        var json = CliOutput.LastJson(output);
        Assert.Equal(256, json.GetProperty("train_samples").GetInt32());
        Assert.Equal(256, json.GetProperty("test_samples").GetInt32());
        Assert.Equal(235_146, json.GetProperty("parameters").GetInt64());
        // 16 steps on 256 digits: far from converged, but well above chance (10%, loss ln 10 ≈ 2.30).
        Assert.True(json.GetProperty("test_accuracy").GetDouble() > 0.4, output);
        Assert.True(json.GetProperty("test_loss").GetDouble() < 2.0, output);
    }

    [Fact]
    public void Mnist_trains_the_cnn_on_a_small_slice()
    {
        var (code, output) = CliRunner.Run("train", "mnist", "--model", "cnn", "--limit", "256", "--batch-size", "16", "--epochs", "1", "--json");

        Assert.Equal(0, code);
        Assert.Contains("Conv2d(1, 16, 3, padding 1) → Relu → MaxPool2d(2) → Conv2d(16, 32, 3, padding 1) → Relu → MaxPool2d(2) → Flatten → " +
            "Linear(1568, 128) → Relu → Linear(128, 10)", output);
        var json = CliOutput.LastJson(output);
        Assert.Equal("cnn", json.GetProperty("model").GetString());
        // 16·9 + 16 + 32·16·9 + 32 + 1568·128 + 128 + 128·10 + 10.
        Assert.Equal(206_922, json.GetProperty("parameters").GetInt64());
        Assert.True(json.GetProperty("test_accuracy").GetDouble() > 0.4, output);
        Assert.True(json.GetProperty("test_loss").GetDouble() < 2.0, output);
    }

    [Fact]
    public void A_diverging_run_stops_at_the_first_nan_gradient_naming_the_op_and_the_line()
    {
        var (code, output) = CliRunner.Run("train", "moons", "--lr", "1e20", "--epochs", "3", "--json");

        Assert.Equal(1, code);
        var last = CliOutput.Lines(output)[^1];
        Assert.StartsWith("backprop train: the run diverged in epoch 1, batch ", last);
        Assert.Contains("CrossEntropyBackward produced", last);
        Assert.Contains("NaN", last);
        Assert.Contains("Trainer.cs:", last); // the line that called the loss
        Assert.Contains("--no-nan-check", last);
        Assert.DoesNotContain("test accuracy", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public void No_nan_check_trains_a_diverging_run_to_the_end()
    {
        var (code, output) = CliRunner.Run("train", "moons", "--lr", "1e20", "--epochs", "2", "--no-nan-check", "--json");

        Assert.Equal(0, code);
        var json = CliOutput.LastJson(output);
        Assert.Equal(2, json.GetProperty("epochs").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.GetProperty("loss").ValueKind);
        Assert.Contains("--no-nan-check", CliRunner.Run("train", "--help").Output);
    }

    [Fact]
    public void Bad_options_and_bad_files_end_with_one_clear_line_and_a_nonzero_exit()
    {
        using var dir = new TempDirectory();
        CliOutput.AssertOneLineError(CliRunner.Run("train", "imagenet"), "unknown 'imagenet'; expected one of xor|moons|spiral|circles|mnist");
        CliOutput.AssertOneLineError(CliRunner.Run("train"), "say which one");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--lr", "abc"), "--lr must be a number; got 'abc'");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--lr", "-1"), "--lr must be a positive number");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--epochs", "0"), "--epochs must be an integer ≥ 1; got '0'");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--batch-size", "x"), "--batch-size must be an integer");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--optimizer", "lbfgs"), "--optimizer must be one of sgd, momentum, adam, adamw, rmsprop");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--hidden", "16,,4"), "--hidden must be comma-separated positive layer widths");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--model", "resnet"), "unknown model 'resnet' for moons");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "mnist", "--model", "cnn", "--hidden", "64"), "the cnn model's layers are fixed");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--model", "cnn"), "unknown model 'cnn' for moons");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--data", dir.FullName), "--data applies to mnist only");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "mnist", "--data", dir.File("nowhere")), "does not exist");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "mnist", "--data", dir.FullName), "no train images file");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "moons", "--frobnicate"), "unknown option '--frobnicate'");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "xor", "--resume", dir.File("missing.safetensors")), "does not exist");

        Assert.Equal(0, CliRunner.Run("train", "xor", "--epochs", "3", "--out", dir.FullName).ExitCode);
        var full = File.ReadAllBytes(dir.File("checkpoint.safetensors"));
        var truncated = dir.File("truncated.safetensors");
        File.WriteAllBytes(truncated, full[..(full.Length - 10)]);
        CliOutput.AssertOneLineError(CliRunner.Run("train", "xor", "--resume", truncated, "--epochs", "5"), "truncated.safetensors: ");
        var garbage = dir.File("garbage.safetensors");
        File.WriteAllText(garbage, "this is not a checkpoint");
        CliOutput.AssertOneLineError(CliRunner.Run("train", "xor", "--resume", garbage, "--epochs", "5"), "garbage.safetensors: ");
    }
}
