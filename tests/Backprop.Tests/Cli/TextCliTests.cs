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
