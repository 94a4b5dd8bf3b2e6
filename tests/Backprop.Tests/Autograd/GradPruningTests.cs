namespace Backprop.Tests.AutogradTests;

/// <summary>Functional Grad runs only the part of the graph through which its inputs are reached (as torch.autograd.grad).</summary>
public class GradPruningTests
{
    [Fact]
    public void Grad_leaves_branches_that_do_not_reach_its_inputs_unrun_and_unfreed()
    {
        var a = Tensor.FromArray(new[] { 1.0, 2.0 }).SetRequiresGrad();
        var b = Tensor.FromArray(new[] { 0.5, -0.5 }).SetRequiresGrad();
        var shared = b.Exp();
        var loss = (a * 2.0).Sum() + shared.Sum();
        var ran = false;
        shared.RegisterHook(_ => ran = true);

        var grad = Backprop.Autograd.Grad([loss], [a])[0]!;

        Assert.Equal([2.0, 2.0], grad.ToArray<double>());
        Assert.False(ran, "the branch through b does not lead to a and must not run");
        // Its nodes were not freed either: a backward through them still works.
        (shared * 3.0).Sum().Backward();
        var expected = new[] { 3 * Math.Exp(0.5), 3 * Math.Exp(-0.5) };
        var actual = b.Grad!.ToArray<double>();
        for (int i = 0; i < 2; i++) Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-12 * expected[i], $"{actual[i]} vs {expected[i]}");
    }
}
