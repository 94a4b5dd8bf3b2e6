using System.Globalization;
using Backprop.Diagnostics;
using Spectre.Console;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop explain attention</c>: self-attention on two tokens (d = 2) forward and backward, every figure read
/// from the engine's tensors (see <see cref="AttentionWorkedExample"/>): scores, softmax weights, output and loss,
/// then ∂L/∂O, ∂L/∂V, ∂L/∂A, each row's softmax Jacobian, ∂L/∂S, ∂L/∂Q and ∂L/∂K.
/// </summary>
public static class ExplainAttention
{
    public static int Run(string[] args)
    {
        if (args.Length > 0) throw new UsageException($"backprop explain attention: takes no options; got '{string.Join(" ", args)}'.");
        var e = AttentionWorkedExample.Create();
        string F(Tensor t) => TensorText.Format(t);
        string scale = TensorText.Number(e.Scale);

        AnsiConsole.MarkupLine("[bold]Worked example: attention[/]: two tokens, d = 2, O = softmax(Q·Kᵀ/√d)·V and L = ½‖O − Y‖², in float64");
        AnsiConsole.MarkupLine("Matrices are written row by row; row i belongs to token i (a query), column j to token j (a key).");
        AnsiConsole.WriteLine();

        var inputs = new Table().Title("Inputs").AddColumn("tensor").AddColumn("value");
        inputs.AddRow(new Text("Q (queries)"), new Text(F(e.Query)));
        inputs.AddRow(new Text("K (keys)"), new Text(F(e.Key)));
        inputs.AddRow(new Text("V (values)"), new Text(F(e.Value)));
        inputs.AddRow(new Text("Y (target output)"), new Text(F(e.Target)));
        AnsiConsole.Write(inputs);

        var forward = new Table().Title("Forward pass").AddColumn("tensor").AddColumn("computed as").AddColumn("value");
        forward.AddRow(new Text("S (scores)"), new Text($"Q·Kᵀ/√d = Q·Kᵀ × {scale}"), new Text(F(e.Scores)));
        forward.AddRow(new Text("A (weights)"), new Text("softmax of each row of S: a_ij = exp(s_ij) / Σ_m exp(s_im)"), new Text(F(e.Weights)));
        forward.AddRow(new Text("O (output)"), new Text("A·V: each token's mix of the values"), new Text(F(e.Output)));
        forward.AddRow(new Text("L (loss)"), new Text("½ Σ (O − Y)²"), new Text(F(e.Loss)));
        AnsiConsole.Write(forward);

        var backward = new Table().Title("Backward pass: the chain rule from the loss back to Q, K and V")
            .AddColumn("#").AddColumn("gradient").AddColumn("computed as").AddColumn("value");
        int step = 1;
        void Row(string name, string formula, string value) => backward.AddRow(new Text((step++).ToString()), new Text(name), new Text(formula), new Text(value));
        Row("∂L/∂O", "O − Y", F(e.GradOutput));
        Row("∂L/∂V", "Aᵀ·∂L/∂O (V reaches L only through O = A·V)", F(e.GradValue));
        Row("∂L/∂A", "∂L/∂O·Vᵀ", F(e.GradWeights));
        for (int i = 0; i < e.SoftmaxJacobians.Count; i++)
            Row($"J{i + 1} = ∂a_{i + 1}/∂s_{i + 1}", $"softmax Jacobian of row {i + 1}: diag(a) − a·aᵀ (rows sum to 0)", F(e.SoftmaxJacobians[i]));
        Row("∂L/∂S", "row i: J_i·∂L/∂a_i = a ⊙ (∂L/∂a − Σ_m a_m ∂L/∂a_m)", F(e.GradScores));
        Row("∂L/∂Q", $"∂L/∂S·K × {scale}", F(e.GradQuery));
        Row("∂L/∂K", $"∂L/∂Sᵀ·Q × {scale}", F(e.GradKey));
        AnsiConsole.Write(backward);

        AnsiConsole.MarkupLine(
            "Each value above is a tensor of the engine's graph (∂L/∂O, ∂L/∂A and ∂L/∂S kept with RetainGrad, the Jacobians built by one " +
            "backward pass per output): the same gradients training computes. Q, K and V get their gradients in parallel from one ∂L/∂S.");
        AnsiConsole.MarkupLine(string.Create(CultureInfo.InvariantCulture,
            $"The fused op training uses, Functional.ScaledDotProductAttention, gives the same O, ∂L/∂Q, ∂L/∂K and ∂L/∂V (largest difference {e.FusedOpDifference:E1})."));
        return 0;
    }
}
