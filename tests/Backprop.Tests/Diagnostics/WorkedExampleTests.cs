using Backprop.Diagnostics;

namespace Backprop.Tests.Diagnostics;

/// <summary>
/// The tutorials' worked examples, computed by the engine in float32. Expected values are the exact arithmetic,
/// worked by hand in the comments; where a tutorial's printed figure differs, the math wins and the comment says so.
/// </summary>
public class WorkedExampleTests
{
    private const double Tolerance = 5e-5; // the tutorials print 4 decimals

    private static Tensor Get(WorkedExample e, string name) =>
        e.Forward.Concat(e.Parameters).Single(t => t.Name == name);

    private static void AssertValues(double[] expected, Tensor actual)
    {
        var values = actual.ToArray<double>();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - values[i]) <= Tolerance, $"{actual.Name ?? "tensor"}[{i}]: expected {expected[i]}, got {values[i]}");
    }

    [Fact]
    public void Example_a_relu_sigmoid_cross_entropy()
    {
        var e = WorkedExample.Create("a");
        e.Backward();
        // z1 = W1·x + b1 = [0.5 − 0.6 + 0.1, 0.2 + 1.6 − 0.2] = [0, 1.6]. In float32 z1[0] comes out 0 or a tiny
        // negative (0.6 and 0.1 are not exact), and the tutorial takes ReLU′(0) = 0: either way the row stays zero.
        Assert.True(Math.Abs(Get(e, "z1").ToArray<double>()[0]) < 1e-6);
        AssertValues([0, 1.6], Get(e, "a1"));
        // z2 = 1·0 − 0.5·1.6 + 0.5 = −0.3; ŷ = σ(−0.3) = 0.425557.
        AssertValues([-0.3], Get(e, "z2"));
        AssertValues([0.425557], Get(e, "ŷ"));
        // L = −ln 0.425557 = 0.854355. The tutorial rounds this to 0.853; the exact value is 0.8544.
        AssertValues([0.854355], e.Loss);
        // δ2 = ∂L/∂z2 = ŷ − y = −0.574443.
        AssertValues([-0.574443], Get(e, "z2").Grad!);
        // ∂L/∂W2 = δ2·a1ᵀ = [0, −0.919109]. The tutorial prints −0.918 (it rounds δ2 first); the product is −0.9191.
        AssertValues([0, -0.919109], Get(e, "W2").Grad!);
        AssertValues([-0.574443], Get(e, "b2").Grad!);
        // δ1 = (W2ᵀ·δ2) ⊙ ReLU′(z1) = [1·(−0.574443)·0, −0.5·(−0.574443)·1] = [0, 0.287222].
        AssertValues([0, 0.287222], Get(e, "z1").Grad!);
        // ∂L/∂W1 = δ1·xᵀ = [[0, 0], [0.287222, 0.574443]]; ∂L/∂b1 = δ1.
        AssertValues([0, 0, 0.287222, 0.574443], Get(e, "W1").Grad!);
        AssertValues([0, 0.287222], Get(e, "b1").Grad!);
    }

    [Fact]
    public void Example_b_sigmoid_squared_error_with_an_sgd_step()
    {
        var e = WorkedExample.Create("b");
        e.Backward();
        // The tutorial writes z1 = 0.68, but 0.4·0.5 + 0.6·0.8 + 0.1 = 0.2 + 0.48 + 0.1 = 0.78, and it carries that
        // slip through every later figure. These are the true values.
        AssertValues([0.78], Get(e, "z1"));
        AssertValues([0.685680], Get(e, "a1"));           // σ(0.78)
        AssertValues([0.717112], Get(e, "z2"));           // 0.9·0.685680 + 0.1
        AssertValues([0.671967], Get(e, "ŷ"));            // σ(0.717112)
        AssertValues([0.053803], e.Loss);                 // ½(1 − 0.671967)²
        // δ2 = (ŷ − y)·ŷ(1 − ŷ) = −0.328033 · 0.671967 · 0.328033 = −0.072307.
        AssertValues([-0.072307], Get(e, "z2").Grad!);
        AssertValues([-0.049580], Get(e, "W2").Grad!);    // δ2·a1
        AssertValues([-0.072307], Get(e, "b2").Grad!);
        // δ1 = δ2·W2·a1(1 − a1) = −0.072307 · 0.9 · 0.685680 · 0.314320 = −0.014026.
        AssertValues([-0.014026], Get(e, "z1").Grad!);
        AssertValues([-0.007013, -0.011221], Get(e, "W1").Grad!); // δ1·x
        AssertValues([-0.014026], Get(e, "b1").Grad!);

        var updated = e.SgdStep().ToDictionary(p => p.Name!);
        AssertValues([0.924790], updated["W2"]);          // 0.9 + 0.5·0.049580
        AssertValues([0.136153], updated["b2"]);          // 0.1 + 0.5·0.072307
        AssertValues([0.403507, 0.605610], updated["W1"]);
        AssertValues([0.107013], updated["b1"]);
    }

    [Fact]
    public void Trace_shows_the_chain_rule_in_backward_order()
    {
        var e = WorkedExample.Create("a");
        var trace = e.Backward();
        var names = trace.Steps.Select(s => s.Node.Name).ToList();
        // The mean reduction of the loss (one sum divided by the count) runs first.
        Assert.Equal(["SumBackward", "BinaryCrossEntropyBackward", "SigmoidBackward", "LinearBackward", "ReluBackward", "LinearBackward"],
            names.Where(n => n != "AccumulateGrad").ToList());
        var sigmoid = trace.Steps.Single(s => s.Node.Name == "SigmoidBackward");
        // Local derivative σ′(z2) = ŷ(1 − ŷ) = 0.244458, applied to the incoming ∂L/∂ŷ = −1/ŷ = −2.349860.
        AssertValues([0.244458], sigmoid.LocalDerivative!);
        AssertValues([-2.349860], sigmoid.GradOutput);
        AssertValues([-0.574443], sigmoid.GradInputs[0]!);
        var relu = trace.Steps.Single(s => s.Node.Name == "ReluBackward");
        AssertValues([0, 1], relu.LocalDerivative!);
        Assert.Equal("a1", relu.Output!.Name);
    }
}
