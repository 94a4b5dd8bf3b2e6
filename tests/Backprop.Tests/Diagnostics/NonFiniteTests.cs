using System.Runtime.CompilerServices;
using Backprop.Nn;

namespace Backprop.Tests.Diagnostics;

/// <summary>A layer that takes the log of its input: a zero in the input plants −∞ in the forward pass and ∞ in backward.</summary>
internal sealed class LogLayer : Module<Tensor, Tensor>
{
    protected override Tensor ForwardCore(Tensor input) => input.Log();
}

public class NonFiniteTests
{
    private static int Line([CallerLineNumber] int line = 0) => line;

    private static (Sequential Model, Tensor Input) LogNet()
    {
        var model = new Sequential(new Linear(2, 2, generator: new Generator(1)), new Relu(), new LogLayer());
        // ReLU zeroes at least one unit for this input, so Log sees 0: d log(x)/dx = 1/x = ∞ there.
        var input = Tensor.FromArray(new float[] { -3, -3 }, 1, 2);
        return (model, input);
    }

    [Fact]
    public void Sentinel_stops_at_log_of_zero_and_names_the_op_its_module_and_the_calling_line()
    {
        var (model, input) = LogNet();
        using var _ = Autograd.DetectNonFinite();
        int forwardLine = Line() + 1;
        var output = model.Forward(input);
        int backwardLine = Line() + 1;
        var error = Assert.Throws<AnomalyException>(() => output.Sum().Backward());
        Assert.Equal("LogBackward", error.Node.Name);
        Assert.Contains("LogBackward produced", error.Message);
        Assert.Contains("module 'Sequential.2 (LogLayer)'", error.Message);
        Assert.Contains($"NonFiniteTests.cs:{forwardLine}", error.Message);
        Assert.Contains($"Backward was called from", error.Message);
        Assert.Contains($"NonFiniteTests.cs:{backwardLine}", error.Message);
        Assert.Contains("infinite", error.Message);
    }

    [Fact]
    public void Sentinel_is_off_by_default_and_after_its_scope()
    {
        using (Autograd.DetectNonFinite()) Assert.True(Autograd.IsCheckingNonFinite);
        Assert.False(Autograd.IsCheckingNonFinite);
        var x = Tensor.FromArray(new[] { 0.0, 2.0 }).SetRequiresGrad();
        x.Log().Sum().Backward(); // no check: the infinite gradient just arrives
        Assert.Equal([double.PositiveInfinity, 0.5], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Anomaly_mode_catches_log_of_zero_called_directly_and_names_the_test_line_from_the_forward_stack()
    {
        var x = Tensor.FromArray(new[] { 0.0, 2.0 }).SetRequiresGrad();
        using var _ = Autograd.DetectAnomaly();
        int logLine = Line() + 1;
        var y = x.Log();
        var error = Assert.Throws<AnomalyException>(() => y.Sum().Backward());
        Assert.Equal("LogBackward", error.Node.Name);
        Assert.Contains("1 infinite", error.Message);
        Assert.Contains($"NonFiniteTests.cs:{logLine}", error.Message);
        Assert.Contains("Forward stack of LogBackward:", error.Message);
        Assert.Contains(nameof(Anomaly_mode_catches_log_of_zero_called_directly_and_names_the_test_line_from_the_forward_stack), error.Message);
    }

    [Fact]
    public void A_nan_from_the_forward_pass_is_traced_to_the_op_that_made_it()
    {
        // log(0) = −∞ in the forward pass; 0·(−∞) = NaN. MulBackward sends g·(−∞) to w: the error names Mul and points at Log.
        var x = Tensor.FromArray(new[] { 0.0, 1.0 });
        var w = Tensor.FromArray(new[] { 1.0, 1.0 }).SetRequiresGrad();
        using var _ = Autograd.DetectNonFinite();
        var logs = x.Log();
        var error = Assert.Throws<AnomalyException>(() => (logs * w).Sum().Backward());
        Assert.Equal("MulBackward", error.Node.Name);
        Assert.Contains("already held 1 infinite", error.Message);
    }

    [Fact]
    public void Without_a_module_or_stack_the_sentinel_says_how_to_get_the_line()
    {
        var x = Tensor.FromArray(new[] { 0.0 }).SetRequiresGrad();
        using var _ = Autograd.DetectNonFinite();
        var error = Assert.Throws<AnomalyException>(() => x.Sqrt().Sum().Backward());
        Assert.Equal("SqrtBackward", error.Node.Name);
        Assert.Contains("Autograd.DetectAnomaly()", error.Message);
    }

    [Fact]
    public void A_functional_loss_records_the_line_that_called_it()
    {
        var logits = Tensor.FromArray(new[] { 0.5f, -0.5f }, 1, 2).SetRequiresGrad();
        var target = Tensor.FromArray(new long[] { 1 });
        int line = Line() + 1;
        var loss = Functional.CrossEntropy(logits, target);
        var site = loss.GradFn!.CallSite!.Value;
        Assert.Equal(line, site.Line);
        Assert.EndsWith("NonFiniteTests.cs", site.File);
    }

    [Fact]
    public void Vectorised_scan_finds_a_single_bad_value_anywhere_and_in_broadcast_views()
    {
        foreach (int n in new[] { 1, 7, 8, 9, 31, 64, 1000 })
            for (int at = 0; at < n; at += Math.Max(1, n / 5))
                foreach (var bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
                {
                    var values = Enumerable.Range(0, n).Select(i => (float)i - 3).ToArray();
                    Assert.False(NonFinite.Any(Tensor.FromArray(values)));
                    values[at] = bad;
                    Assert.True(NonFinite.Any(Tensor.FromArray(values)), $"n={n} at={at} {bad}");
                    Assert.True(NonFinite.Any(Tensor.FromArray(values.Select(v => (double)v).ToArray())));
                }
        var row = Tensor.FromArray(new[] { 1f, double.NaN is var _ ? float.NaN : 0f, 3f });
        Assert.True(NonFinite.Any(row.Expand(4, 3)));
        var slice = Tensor.FromArray(new[] { 1f, 2f, float.NaN, 4f })[0..2];
        Assert.False(NonFinite.Any(slice));
    }
}
