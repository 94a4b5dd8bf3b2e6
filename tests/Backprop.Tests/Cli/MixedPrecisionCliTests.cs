using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

/// <summary><c>backprop train --amp</c>: it trains, records the setting and the scaler's state, and resumes bit for bit.</summary>
[Collection(nameof(CliRunner))]
public class MixedPrecisionCliTests
{
    [Theory]
    [InlineData("fp16")]
    [InlineData("bf16")]
    public void An_amp_run_resumes_bit_for_bit_with_its_scaler(string amp)
    {
        using var once = new TempDirectory();
        using var twice = new TempDirectory();
        string[] run = ["train", "mnist", "--limit", "128", "--batch-size", "32", "--amp", amp];
        Assert.Equal(0, CliRunner.Run([.. run, "--epochs", "2", "--out", once.FullName]).ExitCode);
        Assert.Equal(0, CliRunner.Run([.. run, "--epochs", "1", "--out", twice.FullName]).ExitCode);
        var checkpoint = SafeTensors.Load(twice.File("checkpoint.safetensors"));
        Assert.Equal(amp, checkpoint.Metadata["run.amp"]);
        Assert.Equal(amp == "fp16", checkpoint.Metadata.ContainsKey("scaler.scale"));

        var (code, output) = CliRunner.Run("train", "--resume", twice.File("checkpoint.safetensors"), "--epochs", "2", "--out", twice.FullName, "--json");
        Assert.Equal(0, code);
        Assert.True(CliOutput.LastJson(output).GetProperty("test_accuracy").GetDouble() > 0.3, output);
        Assert.Equal(File.ReadAllBytes(once.File("model.safetensors")), File.ReadAllBytes(twice.File("model.safetensors")));
        CliOutput.AssertOneLineError(CliRunner.Run("train", "--resume", twice.File("checkpoint.safetensors"), "--amp", amp == "fp16" ? "bf16" : "fp16", "--epochs", "3"),
            $"a resumed run keeps its settings");
    }

    [Fact]
    public void An_unknown_amp_mode_is_refused()
    {
        CliOutput.AssertOneLineError(CliRunner.Run("train", "xor", "--amp", "fp8"), "--amp must be bf16 or fp16; got 'fp8'.");
    }
}
