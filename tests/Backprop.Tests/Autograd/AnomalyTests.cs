namespace Backprop.Tests.AutogradTests;

public class AnomalyTests
{
    [Fact]
    public void Anomaly_mode_names_the_op_that_produced_a_nan_gradient_and_where_it_was_created()
    {
        var x = Tensor.FromArray(new[] { 0.0, 1.0 }).SetRequiresGrad();
        using var _ = Backprop.Autograd.DetectAnomaly();
        var y = x.Sqrt(); // d√x/dx at 0 is ∞; times 0 below gives NaN
        var error = Assert.Throws<AnomalyException>(() => (y * 0.0).Sum().Backward());
        Assert.Contains("SqrtBackward", error.Message);
        Assert.Contains(nameof(Anomaly_mode_names_the_op_that_produced_a_nan_gradient_and_where_it_was_created), error.Message);
    }

    [Fact]
    public void Anomaly_mode_names_the_calling_method_after_the_jit_has_inlined_the_op_path()
    {
        // Hot op methods are re-jitted with inlining after a while; the creation stack must still reach the caller.
        var warm = Tensor.FromArray(new[] { 4.0 }).SetRequiresGrad();
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < 2000; i++) _ = warm.Sqrt();
            Thread.Sleep(150);
        }
        var x = Tensor.FromArray(new[] { 0.0, 1.0 }).SetRequiresGrad();
        using var anomaly = Backprop.Autograd.DetectAnomaly();
        var y = x.Sqrt();
        var error = Assert.Throws<AnomalyException>(() => (y * 0.0).Sum().Backward());
        Assert.Contains(nameof(Anomaly_mode_names_the_calling_method_after_the_jit_has_inlined_the_op_path), error.Message);
    }

    [Fact]
    public void A_backward_stopped_by_the_check_leaves_no_gradient_behind_for_the_next_backward_on_its_thread()
    {
        var x = Tensor.FromArray(new[] { 0.0, 1.0 });
        var w = Tensor.FromArray(new[] { 1.0, 1.0 }).SetRequiresGrad();
        using (Backprop.Autograd.DetectNonFinite())
            Assert.Throws<AnomalyException>(() => (x.Log() * w).Sum().Backward()); // MulBackward's gradient for w holds −∞

        // Another Mul, whose second input needs no gradient: its backward leaves that slot unset.
        var y = Tensor.FromArray(new[] { 2.0, 3.0 }).SetRequiresGrad();
        using (Backprop.Autograd.DetectNonFinite()) (y * Tensor.FromArray(new[] { 0.5, 0.25 })).Sum().Backward();
        Assert.Equal([0.5, 0.25], y.Grad!.ToArray<double>());
    }
}
