using System.Runtime.CompilerServices;
using Backprop.Nn;

namespace Backprop.Tests.Diagnostics;

/// <summary>σ(x), then shifted in place: the in-place add overwrites the output that σ saved for its backward.</summary>
internal sealed class ShiftedSigmoid : Module<Tensor, Tensor>
{
    public static readonly int ShiftLine = Line() + 5;

    protected override Tensor ForwardCore(Tensor input)
    {
        var h = input.Sigmoid();
        h.AddInPlace(1.0);
        return h;
    }

    private static int Line([CallerLineNumber] int line = 0) => line;
}

public class InPlaceDiagnosticsTests
{
    private static int Line([CallerLineNumber] int line = 0) => line;

    [Fact]
    public void In_place_misuse_names_the_op_that_saved_the_tensor_and_the_op_that_changed_it_with_their_lines()
    {
        var layer = new ShiftedSigmoid();
        var x = Tensor.FromArray(new[] { 0.5f, -1f }).SetRequiresGrad();
        int forwardLine = Line() + 1;
        var y = layer.Forward(x);
        var error = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("SigmoidBackward (created in module 'ShiftedSigmoid'", error.Message);
        Assert.Contains($"InPlaceDiagnosticsTests.cs:{forwardLine}", error.Message);
        Assert.Contains($"last by AddInPlace at ", error.Message);
        Assert.Contains($"InPlaceDiagnosticsTests.cs:{ShiftedSigmoid.ShiftLine}", error.Message);
        Assert.Contains("at version 0", error.Message);
        Assert.Contains("now version 1", error.Message);
    }

    [Fact]
    public void A_change_made_outside_a_module_names_its_line_too()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0 }).SetRequiresGrad();
        var e = x.Exp(); // ExpBackward saves its output
        int changeLine = Line() + 1;
        using (Autograd.NoGrad()) e.MulInPlace(2.0);
        var error = Assert.Throws<InvalidOperationException>(() => e.Sum().Backward());
        Assert.Contains("ExpBackward", error.Message);
        Assert.Contains($"MulInPlace at ", error.Message);
        Assert.Contains($"InPlaceDiagnosticsTests.cs:{changeLine}", error.Message);
    }

    [Fact]
    public void An_op_called_outside_any_module_is_named_without_a_line_unless_anomaly_mode_recorded_its_stack()
    {
        // Outside a module, loss or anomaly mode no line is recorded for the op that saved the tensor (that would
        // take caller-info on every tensor op, or a stack per node), and the message says how to get it.
        var x = Tensor.FromArray(new[] { 1.0, 2.0 }).SetRequiresGrad();
        var e = x.Exp();
        using (Autograd.NoGrad()) e.MulInPlace(2.0);
        var unknown = Assert.Throws<InvalidOperationException>(() => e.Sum().Backward());
        Assert.Contains("ExpBackward (created where no call was recorded; run the forward pass under Autograd.DetectAnomaly()", unknown.Message);

        using var anomaly = Autograd.DetectAnomaly();
        var x2 = Tensor.FromArray(new[] { 1.0, 2.0 }).SetRequiresGrad();
        int expLine = Line() + 1;
        var e2 = x2.Exp();
        using (Autograd.NoGrad()) e2.MulInPlace(2.0);
        var known = Assert.Throws<InvalidOperationException>(() => e2.Sum().Backward());
        Assert.Contains($"ExpBackward (created at ", known.Message);
        Assert.Contains($"InPlaceDiagnosticsTests.cs:{expLine}", known.Message);
    }
}
