namespace Backprop.Tests.Cli;

[Collection(nameof(CliRunner))]
public class CliTests
{
    [Fact]
    public void Explain_a_prints_the_forward_values_and_each_backward_step()
    {
        var (code, output) = CliRunner.Run("explain", "a");
        Assert.Equal(0, code);
        foreach (var expected in new[] { "0.4256", "0.8544", "-0.5744", "[0.0000, -0.9191]", "[0.0000, 0.2872]", "[[0.0000, 0.0000], [0.2872, 0.5744]]", "ReLU(z1)" })
            Assert.Contains(expected, output);
        Assert.True(output.IndexOf("Sigmoid", StringComparison.Ordinal) < output.LastIndexOf("Relu", StringComparison.Ordinal),
            "backward steps run from the loss towards the input");
    }

    [Fact]
    public void Explain_b_prints_the_true_values_and_the_sgd_step()
    {
        var (code, output) = CliRunner.Run("explain", "b");
        Assert.Equal(0, code);
        foreach (var expected in new[] { "0.7800", "0.6720", "0.0538", "-0.0723", "-0.0496", "-0.0140", "[-0.0070, -0.0112]", "0.9248", "0.1362", "[0.4035, 0.6056]", "0.1070" })
            Assert.Contains(expected, output);
    }

    [Fact]
    public void Gradcheck_runs_the_table_and_reports_counts()
    {
        var (code, output) = CliRunner.Run("gradcheck", "--filter", "Sigmoid");
        Assert.Equal(0, code);
        // One summary line per table: first derivatives, then second derivatives of the same rows.
        var summaries = output.Split('\n').Select(l => l.Trim()).Where(l => l.EndsWith(" failed", StringComparison.Ordinal)).ToList();
        Assert.Equal(["2 passed, 0 failed", "2 passed, 0 failed"], summaries);
        Assert.Contains("Second derivatives (gradgradcheck)", output);

        var (secondCode, secondOutput) = CliRunner.Run("gradcheck", "--filter", "BatchNorm train 2-D", "--order", "2");
        Assert.Equal(0, secondCode);
        Assert.DoesNotContain("First derivatives", secondOutput);
        Assert.Contains("1 passed, 0 failed", secondOutput);
    }

    [Theory]
    [InlineData("attention")]
    public void Bench_refuses_a_workload_that_does_not_exist_yet_listing_those_that_do(string workload)
    {
        CliOutput.AssertOneLineError(CliRunner.Run("bench", workload), $"unknown '{workload}'; expected one of gemm|mlp|xor|cnn|lstm|all");
    }

    [Fact]
    public void Bad_options_end_with_one_clear_line_and_a_nonzero_exit()
    {
        var (code, output) = CliRunner.Run("explain", "--bogus");
        Assert.Equal(2, code);
        Assert.Contains("unknown option '--bogus'", output);
        Assert.DoesNotContain("   at ", output);
        var (code2, output2) = CliRunner.Run("explain", "z");
        Assert.Equal(2, code2);
        Assert.Contains("unknown 'z'", output2);
        var (code3, output3) = CliRunner.Run("frobnicate");
        Assert.Equal(2, code3);
        Assert.Contains("unknown command", output3);
    }
}
