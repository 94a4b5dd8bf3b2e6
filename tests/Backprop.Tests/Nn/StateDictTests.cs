using Backprop.IO;
using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class StateDictTests
{
    private static Sequential Mlp(ulong seed, int hidden = 4)
    {
        var g = new Generator(seed);
        return new Sequential(new Linear(2, hidden, generator: g), new Tanh(), new Linear(hidden, 1, generator: g));
    }

    [Fact]
    public void Round_trip_copies_every_value()
    {
        var source = Mlp(1);
        var target = Mlp(2);
        var x = Tensor.Randn(5, 2);
        Assert.False(source.Forward(x).AllClose(target.Forward(x)));

        var result = target.LoadStateDict(source.StateDict());

        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        Assert.Equal(source.Forward(x).ToArray<float>(), target.Forward(x).ToArray<float>());
        // A copy, not shared storage: changing the source later leaves the target alone.
        using (Autograd.NoGrad()) ((Linear)source[0]).Weight.FillInPlace(9);
        Assert.DoesNotContain(9f, ((Linear)target[0]).Weight.ToArray<float>());
    }

    [Fact]
    public void State_dict_values_are_detached_views_of_the_parameters()
    {
        var mlp = Mlp(1);
        var dict = mlp.StateDict();
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], dict.Keys);
        Assert.False(dict["0.weight"].RequiresGrad);
        Assert.Equal([4, 2], dict["0.weight"].Shape.ToArray());
        Assert.Equal(((Linear)mlp[0]).Weight.ToArray<float>(), dict["0.weight"].ToArray<float>());
    }

    [Fact]
    public void Missing_keys_fail_strict_loading_and_are_reported_otherwise()
    {
        var dict = Mlp(1).StateDict();
        dict.Remove("2.bias");
        var target = Mlp(2);
        var before = ((Linear)target[0]).Weight.ToArray<float>();

        var e = Assert.Throws<StateDictMismatchException>(() => target.LoadStateDict(dict));
        Assert.Equal(["2.bias"], e.MissingKeys);
        Assert.Contains("Missing keys (1): 2.bias", e.Message);
        Assert.Equal(before, ((Linear)target[0]).Weight.ToArray<float>());

        var result = target.LoadStateDict(dict, strict: false);
        Assert.Equal(["2.bias"], result.MissingKeys);
        Assert.Equal(dict["0.weight"].ToArray<float>(), ((Linear)target[0]).Weight.ToArray<float>());
    }

    [Fact]
    public void Unexpected_keys_fail_strict_loading_and_are_reported_otherwise()
    {
        var dict = Mlp(1).StateDict();
        dict["3.weight"] = Tensor.Zeros(1, 1);
        var e = Assert.Throws<StateDictMismatchException>(() => Mlp(2).LoadStateDict(dict));
        Assert.Equal(["3.weight"], e.UnexpectedKeys);
        Assert.Contains("Unexpected keys (1): 3.weight", e.Message);
        Assert.Equal(["3.weight"], Mlp(2).LoadStateDict(dict, strict: false).UnexpectedKeys);
    }

    [Fact]
    public void Mis_shaped_keys_always_fail_and_name_both_shapes()
    {
        var dict = Mlp(1, hidden: 3).StateDict();
        var e = Assert.Throws<StateDictMismatchException>(() => Mlp(2, hidden: 4).LoadStateDict(dict, strict: false));
        Assert.Equal(["0.weight", "0.bias", "2.weight"], e.ShapeMismatches.Select(m => m.Key));
        Assert.Equal(new Shape(4, 2), e.ShapeMismatches[0].Expected);
        Assert.Equal(new Shape(3, 2), e.ShapeMismatches[0].Found);
        Assert.Contains("0.weight (expected [4, 2], found [3, 2])", e.Message);
    }

    [Fact]
    public void All_three_kinds_are_listed_together()
    {
        var dict = Mlp(1, hidden: 3).StateDict();
        dict.Remove("2.bias");
        dict["extra"] = Tensor.Zeros(1);
        var e = Assert.Throws<StateDictMismatchException>(() => Mlp(2, hidden: 4).LoadStateDict(dict));
        Assert.Equal(["2.bias"], e.MissingKeys);
        Assert.Equal(["extra"], e.UnexpectedKeys);
        Assert.Equal(3, e.ShapeMismatches.Count);
    }

    private sealed class WithBuffers : Module<Tensor, Tensor>
    {
        public WithBuffers()
        {
            RegisterBuffer("running_mean", Tensor.Zeros(3));
            RegisterBuffer("scratch", Tensor.Zeros(3), persistent: false);
        }

        public Linear Proj { get; } = new(3, 3);

        protected override Tensor ForwardCore(Tensor input) => Proj.Forward(input - GetBuffer("running_mean")!);
    }

    [Fact]
    public void Persistent_buffers_are_saved_and_loaded()
    {
        var source = new WithBuffers();
        using (Autograd.NoGrad()) source.GetBuffer("running_mean")!.FillInPlace(1.5);
        var dict = source.StateDict();
        Assert.Equal(["running_mean", "proj.weight", "proj.bias"], dict.Keys);

        var target = new WithBuffers();
        target.LoadStateDict(dict);
        Assert.All(target.GetBuffer("running_mean")!.ToArray<float>(), v => Assert.Equal(1.5f, v));
    }

    [Fact]
    public void Loading_converts_dtype()
    {
        var target = new Linear(2, 2);
        var dict = new Dictionary<string, Tensor>
        {
            ["weight"] = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0 }, 2, 2),
            ["bias"] = Tensor.FromArray(new[] { 0.5, -0.5 }),
        };
        target.LoadStateDict(dict);
        Assert.Equal(DType.Float32, target.Weight.DType);
        Assert.Equal([1f, 2f, 3f, 4f], target.Weight.ToArray<float>());
    }

    [Fact]
    public void Checkpoint_holds_a_copy_under_a_prefix()
    {
        var source = Mlp(1);
        var checkpoint = new Checkpoint();
        source.SaveState(checkpoint, "model.");
        Assert.Equal(["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"], checkpoint.Tensors.Keys);
        var saved = checkpoint.Tensors["model.0.bias"].ToArray<float>();
        using (Autograd.NoGrad()) ((Linear)source[0]).Bias!.FillInPlace(7);
        Assert.Equal(saved, checkpoint.Tensors["model.0.bias"].ToArray<float>());

        var target = Mlp(2);
        target.LoadState(checkpoint, "model.");
        Assert.Equal(saved, ((Linear)target[0]).Bias!.ToArray<float>());
    }
}
