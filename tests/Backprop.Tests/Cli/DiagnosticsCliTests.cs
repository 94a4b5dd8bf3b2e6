using System.Text.Json.Nodes;
using Backprop.IO;
using Backprop.Tests.IO;

namespace Backprop.Tests.Cli;

[Collection(nameof(CliRunner))]
public class DiagnosticsCliTests
{
    private static JsonNode LastLineJson(string output) =>
        JsonNode.Parse(output.TrimEnd().Split('\n')[^1])!;

    [Fact]
    public void Diagnose_vanishing_flags_the_sigmoid_stack_and_not_the_relu_stack()
    {
        var (code, output) = CliRunner.Run("diagnose", "vanishing", "--json", "--steps", "12");
        Assert.Equal(0, code);
        Assert.Contains("sigmoid δ", output);
        Assert.Contains("relu δ", output);
        var json = LastLineJson(output);
        Assert.StartsWith("{\"sigmoid\":{\"vanishing\":true,", output.TrimEnd().Split('\n')[^1]);
        Assert.True(json["sigmoid"]!["vanishing"]!.GetValue<bool>());
        Assert.False(json["relu"]!["vanishing"]!.GetValue<bool>());
        Assert.Equal(10, json["relu"]!["layers"]!.AsArray().Count);
        Assert.True(json["sigmoid"]!["firstToLastRatio"]!.GetValue<double>() < 1e-3);
    }

    [Fact]
    public void Diagnose_exploding_flags_the_unclipped_run_and_not_the_clipped_one()
    {
        using var dir = new TempDirectory();
        var png = dir.File("norms.png");
        var (code, output) = CliRunner.Run("diagnose", "exploding", "--json", "--png", png);
        Assert.Equal(0, code);
        var json = LastLineJson(output);
        Assert.True(json["unclipped"]!["exploding"]!.GetValue<bool>());
        Assert.False(json["clipped"]!["exploding"]!.GetValue<bool>());
        foreach (var run in new[] { "unclipped", "clipped" })
        {
            var file = dir.File($"norms-{run}.png");
            Assert.True(File.Exists(file), file);
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(file)[..4]);
        }
    }

    [Fact]
    public void Graph_xor_prints_dot_with_ops_shapes_parameters_and_gradient_norms()
    {
        var (code, output) = CliRunner.Run("graph", "xor");
        Assert.Equal(0, code);
        Assert.StartsWith("digraph backward {", output.TrimStart());
        foreach (var expected in new[] { "SigmoidBackward", "LinearBackward", "ReluBackward", "[4, 1]", "0.weight [4, 2]", "4.bias [1]", "‖∂L/∂out‖ = ", "‖grad‖ = ", "Sequential.4 (Linear)" })
            Assert.Contains(expected, output);
        // Three layers: each LinearBackward has an edge from its weight and its bias; the loss's mean is one
        // SumBackward node (the sum divided by the count inside it).
        Assert.Equal(13, output.Split('\n').Count(l => l.Contains("->")));
    }

    [Fact]
    public void Graph_mermaid_and_memory_report()
    {
        var (code, output) = CliRunner.Run("graph", "mlp", "--mermaid", "--memory");
        Assert.Equal(0, code);
        Assert.StartsWith("flowchart BT", output.TrimStart());
        Assert.Contains("saves ", output);
        // Sequential.0 (Linear) keeps its input for ∂L/∂W: 128·784 float32 = 392 KiB.
        Assert.Contains("Sequential.0 (Linear)", output);
        Assert.Contains("392.0 KiB", output);
        Assert.Contains("total", output);
    }

    [Fact]
    public void Graph_cnn_draws_the_convolutions_and_pooling()
    {
        var (code, output) = CliRunner.Run("graph", "cnn", "--memory");
        Assert.Equal(0, code);
        foreach (var expected in new[] { "digraph backward {", "Conv2dBackward", "MaxPool2dBackward", "ReluBackward", "0.weight [8, 1, 3, 3]", "3.bias [16]", "7.weight [10, 784]", "[64, 8, 28, 28]" })
            Assert.Contains(expected, output);
    }

    [Fact]
    public void Graph_png_without_graphviz_says_how_to_install_it()
    {
        using var dir = new TempDirectory();
        var (code, output) = CliRunner.Run("graph", "xor", "--png", dir.File("g.png"), "--dot", dir.File("no-such-dot"));
        Assert.Equal(1, code);
        Assert.Contains("digraph backward", output); // the text is still printed
        Assert.Contains("apt-get install graphviz", output);
        Assert.False(File.Exists(dir.File("g.png")));
    }

    [Fact]
    public void Explain_a_custom_1_1_1_network_with_hand_checkable_numbers()
    {
        // x = 1, W1 = 2, b1 = −1, W2 = 3, b2 = 0.5, ReLU hidden, linear output, y = 2, L = (ŷ − y)²:
        // z1 = 2·1 − 1 = 1, a1 = 1, ŷ = 3·1 + 0.5 = 3.5, L = 1.5² = 2.25.
        // ∂L/∂ŷ = 2(ŷ − y) = 3 = δ2, so ∂L/∂W2 = δ2·a1 = 3 and ∂L/∂b2 = 3; ∂L/∂a1 = W2·δ2 = 9, ReLU'(1) = 1, so δ1 = 9,
        // ∂L/∂W1 = δ1·x = 9, ∂L/∂b1 = 9. One SGD step with η = 0.1: W1 = 2 − 0.9 = 1.1, b2 = 0.5 − 0.3 = 0.2.
        using var dir = new TempDirectory();
        var weights = dir.File("w.json");
        File.WriteAllText(weights, """{"W1": [[2]], "b1": [-1], "W2": [[3]], "b2": [0.5]}""");
        var (code, output) = CliRunner.Run("explain", "--layers", "1,1,1", "--activation", "relu", "--input", "1", "--target", "2",
            "--weights", weights, "--lr", "0.1");
        Assert.Equal(0, code);
        foreach (var expected in new[] { "W2·a1 + b2", "3.5000", "2.2500", "∂L/∂ŷ = 3.0000", "∂L/∂a1 = 9.0000", "∂L/∂z1 = 9.0000", "1.1000", "0.2000" })
            Assert.Contains(expected, output);
        var gradients = output[output.IndexOf("Gradients of the loss", StringComparison.Ordinal)..];
        foreach (var (name, value) in new[] { ("W1", "9.0000"), ("b1", "9.0000"), ("W2", "3.0000"), ("b2", "3.0000") })
            Assert.Matches($"│ {name} +│ {value}", gradients);
    }

    [Fact]
    public void Explain_a_custom_network_reads_safetensors_weights_and_seeded_random_ones()
    {
        // 2-1 with a sigmoid output and BCE: ŷ = σ(0.5·1 − 0.5·1 + 0) = 0.5, L = −log 0.5 = 0.6931, ∂L/∂z = ŷ − y = −0.5.
        using var dir = new TempDirectory();
        var file = dir.File("w.safetensors");
        SafeTensors.Save(file, new Dictionary<string, Tensor>
        {
            ["W1"] = Tensor.FromArray(new[] { 0.5f, -0.5f }, 1, 2),
            ["b1"] = Tensor.FromArray(new[] { 0f }),
        });
        var (code, output) = CliRunner.Run("explain", "--layers", "2,1", "--loss", "bce", "--input", "1,1", "--target", "1", "--weights", file);
        Assert.Equal(0, code);
        Assert.Contains("0.6931", output);
        Assert.Contains("[-0.5000, -0.5000]", output); // ∂L/∂W = δ·xᵀ

        var (code1, first) = CliRunner.Run("explain", "--layers", "2,3,1", "--activation", "sigmoid", "--input", "0.5,0.8", "--target", "1", "--seed", "7");
        var (_, second) = CliRunner.Run("explain", "--layers", "2,3,1", "--activation", "sigmoid", "--input", "0.5,0.8", "--target", "1", "--seed", "7");
        Assert.Equal(0, code1);
        Assert.Equal(first, second);
        Assert.Contains("σ(z1)", first);
    }

    [Fact]
    public void Explain_custom_mistakes_are_one_clear_line()
    {
        var (code, output) = CliRunner.Run("explain", "--layers", "2,3,1", "--input", "0.5", "--target", "1");
        Assert.Equal(2, code);
        Assert.Contains("2 inputs but the input has 1 values", output);
        (code, output) = CliRunner.Run("explain", "--activation", "relu");
        Assert.Equal(2, code);
        Assert.Contains("--layers", output);
        (code, output) = CliRunner.Run("explain", "--layers", "2,1", "--input", "1,1", "--target", "1", "--loss", "bce", "--output", "relu");
        Assert.Equal(2, code);
        Assert.Contains("output activation must be sigmoid", output);
        using var dir = new TempDirectory();
        var weights = dir.File("w.json");
        File.WriteAllText(weights, """{"W1": [[1, 2, 3]], "b1": [0]}""");
        (code, output) = CliRunner.Run("explain", "--layers", "2,1", "--input", "1,1", "--target", "1", "--weights", weights);
        Assert.Equal(2, code);
        Assert.Contains("'W1' must have shape [1, 2]", output);
    }

    [Fact]
    public void Diagnose_overhead_runs_every_mode()
    {
        var (code, output) = CliRunner.Run("diagnose", "overhead", "--rounds", "1", "--json");
        Assert.Equal(0, code);
        var json = LastLineJson(output);
        foreach (var key in new[] { "offMs", "sentinelMs", "anomalyMs" }) Assert.True(json[key]!.GetValue<double>() > 0);
    }
}

[Collection(nameof(CliRunner))]
public class DiagnoseOutputTests
{
    [Fact]
    public void A_monitored_training_run_ends_with_the_layer_table_findings_and_chart()
    {
        // What `backprop train --diagnose` does after training: a dead layer shows in the table and the findings.
        var generator = new Generator(5);
        var dying = new Backprop.Nn.Linear(4, 8, generator: generator);
        using (Autograd.NoGrad()) dying.Bias!.FillInPlace(-10);
        var model = new Backprop.Nn.Sequential(dying, new Backprop.Nn.Relu(), new Backprop.Nn.Linear(8, 1, generator: generator));
        using var monitor = Backprop.Diagnostics.GradientFlowMonitor.Attach(model);
        var x = Tensor.Randn([16, 4], generator: generator);
        for (int i = 0; i < 3; i++) model.Forward(x).Square().Mean().Backward();
        using var dir = new Backprop.Tests.IO.TempDirectory();
        var png = dir.File("norms.png");
        var writer = new StringWriter();
        var previous = Spectre.Console.AnsiConsole.Console;
        var previousOut = Console.Out;
        try
        {
            Console.SetOut(writer);
            Spectre.Console.AnsiConsole.Console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
            {
                Out = new Spectre.Console.AnsiConsoleOutput(writer), Ansi = Spectre.Console.AnsiSupport.No,
            });
            Backprop.Cli.Commands.DiagnoseOutput.Finish(monitor, png);
        }
        finally
        {
            Spectre.Console.AnsiConsole.Console = previous;
            Console.SetOut(previousOut);
        }
        var output = writer.ToString();
        Assert.Contains("0 (Linear)", output);
        Assert.Contains("1 (Relu)", output);
        Assert.Contains("100.0", output); // the dead layer: every unit silent, every weight gradient zero
        Assert.Contains("dead units", output);
        Assert.True(File.Exists(png));
    }
}
