using Backprop.Cli;
using Backprop.Diagnostics;

namespace Backprop.Tests.Cli;

[Collection(nameof(CliRunner))]
public class ExplainModesCliTests
{
    [Fact]
    public void Explain_forward_prints_values_with_one_tangent_per_input_and_the_loss_row_both_ways()
    {
        var (code, output) = CliRunner.Run("explain", "forward", "b");
        Assert.True(code == 0, output);
        var explanation = WorkedExample.ExplainForward("b");
        foreach (var expected in new[] { "0.7800", "0.4000", "0.6000", "ẋ = e1", "ẋ = e2", "2 forward passes", "1 backward pass" })
            Assert.Contains(expected, output);
        string row = string.Join(", ", explanation.LossRowByForwardMode.Select(v => TensorText.Number(v)));
        Assert.Contains($"∂L/∂x from 2 forward passes: [{row}]", output);
        Assert.Contains($"∂L/∂x from 1 backward pass:  [{row}]", output);
    }

    [Fact]
    public void Explain_hessian_prints_the_matrix_and_its_eigenvalues()
    {
        var (code, output) = CliRunner.Run("explain", "hessian", "b");
        Assert.True(code == 0, output);
        var explanation = WorkedExample.ExplainHessian("b");
        Assert.Contains("b2[0]", output);
        Assert.Contains(TensorText.Number(explanation.Hessian.ToArray<double>()[24]), output);
        Assert.Contains("Eigenvalues: [" + string.Join(", ", explanation.Eigenvalues.ToArray<double>().Select(v => TensorText.Number(v))) + "]", output);

        var (codeA, outputA) = CliRunner.Run("explain", "hessian");
        Assert.True(codeA == 0, outputA);
        Assert.Contains("W1[0,0]", outputA);
        Assert.Contains("1 negative, 6 zero, 2 positive.", outputA);
    }

    [Fact]
    public void Explain_forward_refuses_an_unknown_example()
    {
        var (code, output) = CliRunner.Run("explain", "forward", "z");
        Assert.Equal(2, code);
        Assert.Contains("unknown 'z'", output);
    }
}
