namespace Backprop.Tests.AutogradTests;

public class BackwardCallbackTests
{
    [Fact]
    public void PostAccumulateGradHook_SeesTheAccumulatedGradient()
    {
        var w = Tensor.FromArray([1f, 2f], 2);
        w.RequiresGrad = true;
        var seen = new List<float[]>();
        using var handle = w.RegisterPostAccumulateGradHook(leaf => seen.Add(leaf.Grad!.ToArray<float>()));
        (w * 3).Sum().Backward();
        (w * 3).Sum().Backward();
        Assert.Equal([[3f, 3f], [6f, 6f]], seen);
        // Functional Grad leaves Grad alone, so the hook stays quiet.
        Autograd.Grad([(w * 2).Sum()], [w]);
        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public void PostAccumulateGradHook_OnANonLeaf_Throws()
    {
        var w = Tensor.Ones([2], requiresGrad: true);
        var e = Assert.Throws<InvalidOperationException>(() => ((w * 2).RegisterPostAccumulateGradHook(_ => { })));
        Assert.Contains("computed by an op", e.Message);
    }

    [Fact]
    public void QueuedCallback_RunsOnceAfterEveryNodeOfTheBackward()
    {
        var a = Tensor.Ones([2], requiresGrad: true);
        var b = Tensor.Ones([2], requiresGrad: true);
        var order = new List<string>();
        using var ha = a.RegisterPostAccumulateGradHook(_ =>
        {
            order.Add("a");
            Autograd.QueueCallback(() => order.Add($"callback (b has grad: {b.Grad is not null})"));
        });
        using var hb = b.RegisterPostAccumulateGradHook(_ => order.Add("b"));
        // b's gradient comes after a's (b is used first, so its accumulator runs last).
        (b.Exp() * 2 + a * 3).Sum().Backward();
        Assert.Equal(3, order.Count);
        Assert.Equal("callback (b has grad: True)", order[^1]);
        (a * 1).Sum().Backward();
        Assert.Equal(5, order.Count);
    }

    [Fact]
    public void QueueCallback_OutsideBackward_Throws()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Autograd.QueueCallback(() => { }));
        Assert.Contains("no backward pass", e.Message);
    }
}
