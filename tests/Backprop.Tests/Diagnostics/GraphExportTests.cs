using Backprop.Diagnostics;
using Backprop.Nn;

namespace Backprop.Tests.Diagnostics;

public class GraphExportTests
{
    private static (Tensor Loss, Tensor W, Tensor B) SmallGraph()
    {
        var w = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2).SetRequiresGrad();
        w.Name = "W";
        var b = Tensor.FromArray(new float[] { 0.5f, -0.5f, 1 }).SetRequiresGrad();
        b.Name = "b";
        var x = Tensor.FromArray(new float[] { 1, -1, 2, 0 }, 2, 2);
        var loss = Functional.Linear(x, w, b).Relu().Sum();
        return (loss, w, b);
    }

    [Fact]
    public void Dot_lists_each_op_and_leaf_with_shapes_and_forward_edges()
    {
        var (loss, _, _) = SmallGraph();
        var dot = GraphExport.ToDot(loss);
        Assert.StartsWith("digraph backward {", dot);
        foreach (var expected in new[] { "SumBackward", "ReluBackward", "LinearBackward", "W [3, 2]", "b [3]", "[2, 3]" })
            Assert.Contains(expected, dot);
        // Sum ← Relu ← Linear ← {W, b}: four edges.
        Assert.Equal(4, dot.Split('\n').Count(l => l.Contains("->")));
    }

    [Fact]
    public void After_a_recorded_backward_nodes_show_gradient_norms()
    {
        var (loss, w, _) = SmallGraph();
        using var recorder = GradientNormRecorder.Attach(loss);
        loss.Backward();
        var mermaid = GraphExport.ToMermaid(loss, new GraphExportOptions { GradientNorms = recorder.Norms });
        Assert.StartsWith("flowchart BT", mermaid);
        // The Relu node receives ∂L/∂out = ones([2, 3]): norm √6.
        Assert.Contains("‖∂L/∂out‖ = " + Math.Sqrt(6).ToString("G4", System.Globalization.CultureInfo.InvariantCulture), mermaid);
        double wNorm = w.Grad!.Norm().Item();
        Assert.Contains("‖grad‖ = " + wNorm.ToString("G4", System.Globalization.CultureInfo.InvariantCulture), mermaid);
    }

    [Fact]
    public void Saved_tensor_report_counts_what_backward_keeps()
    {
        var x = Tensor.Randn([8, 16], DType.Float32);
        var w = Tensor.Randn([16, 4], requiresGrad: true);
        var h = x.MatMul(w);      // saves x (for ∂L/∂W): 8·16·4 bytes; w is not needed since x needs no grad
        var y = h.Sigmoid();      // saves its output: 8·4·4 bytes
        var loss = y.Sum();
        var report = SavedTensorReport.Of(loss);
        Assert.Equal(8 * 16 * 4 + 8 * 4 * 4, report.TotalBytes);
        Assert.Equal(8 * 16 * 4, report.Entries.Single(e => e.Node.Name == "MatMulBackward").Bytes);
        Assert.Equal(report.TotalBytes, report.ByModule.Single().Bytes);
        loss.Backward();
        Assert.Equal(0, SavedTensorReport.Of(loss).TotalBytes); // freed after backward
    }
}
