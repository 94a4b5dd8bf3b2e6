using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class ModuleHookTests
{
    private static Linear Layer()
    {
        var linear = new Linear(3, 2, dtype: DType.Float64);
        using (Autograd.NoGrad())
        {
            linear.Weight.CopyFrom(Tensor.FromArray(new[] { 1.0, 2.0, 3.0, -1.0, 0.5, 0.0 }, 2, 3));
            linear.Bias!.CopyFrom(Tensor.FromArray(new[] { 0.1, -0.2 }));
        }
        return linear;
    }

    private static Tensor Input(bool requiresGrad = true)
    {
        var x = Tensor.FromArray(new[] { 1.0, -2.0, 0.5, 3.0, 0.0, 1.0 }, 2, 3);
        x.RequiresGrad = requiresGrad;
        return x;
    }

    private static readonly Tensor Upstream = Tensor.FromArray(new[] { 1.0, 2.0, -1.0, 0.5 }, 2, 2);

    [Fact]
    public void Forward_hooks_fire_in_order_and_can_be_removed()
    {
        var linear = Layer();
        var log = new List<string>();
        using var pre = linear.RegisterForwardPreHook((m, x) => log.Add($"pre {x.Shape}"));
        var post = linear.RegisterForwardHook((m, x, y) => log.Add($"post {y.Shape}"));
        linear.Forward(Input());
        Assert.Equal(["pre [2, 3]", "post [2, 2]"], log);

        post.Remove();
        log.Clear();
        linear.Forward(Input());
        Assert.Equal(["pre [2, 3]"], log);
        pre.Dispose();
        log.Clear();
        linear.Forward(Input());
        Assert.Empty(log);
    }

    [Fact]
    public void Forward_hooks_can_replace_input_and_output()
    {
        var linear = Layer();
        var x = Input();
        var plain = linear.Forward(x).ToArray<double>();
        using var pre = linear.RegisterForwardPreHook((m, input) => input * 0.0);
        using var post = linear.RegisterForwardHook((m, input, output) => output + 1.0);
        // With a zeroed input the output is the bias, plus one from the forward hook.
        Assert.Equal([1.1, 0.8, 1.1, 0.8], linear.Forward(x).ToArray<double>());
        pre.Dispose();
        post.Dispose();
        Assert.Equal(plain, linear.Forward(x).ToArray<double>());
    }

    [Fact]
    public void Full_backward_hook_sees_the_gradients_of_input_and_output()
    {
        var linear = Layer();
        IReadOnlyList<Tensor?>? gradInputs = null, gradOutputs = null;
        int calls = 0;
        linear.RegisterFullBackwardHook((Module m, IReadOnlyList<Tensor?> gi, IReadOnlyList<Tensor?> go) =>
        {
            calls++;
            gradInputs = gi;
            gradOutputs = go;
        });
        var x = Input();
        linear.Forward(x).Backward(Upstream);

        Assert.Equal(1, calls);
        Assert.Equal(Upstream.ToArray<double>(), gradOutputs![0]!.ToArray<double>());
        // ∂L/∂x = G·W
        double[] expected = [1 * 1 + 2 * -1, 1 * 2 + 2 * 0.5, 1 * 3 + 2 * 0, -1 * 1 + 0.5 * -1, -1 * 2 + 0.5 * 0.5, -1 * 3 + 0];
        Assert.Equal(expected, gradInputs![0]!.ToArray<double>());
        Assert.Equal(expected, x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Full_backward_hook_sees_only_this_calls_share_of_a_shared_input()
    {
        var linear = Layer();
        Tensor? gradInput = null;
        linear.RegisterFullBackwardHook((Module m, IReadOnlyList<Tensor?> gi, IReadOnlyList<Tensor?> go) => gradInput = gi[0]);
        var x = Input();
        (linear.Forward(x).Sum() + (x * 5.0).Sum()).Backward();
        // Through the layer each element of x gets the column sum of W; the direct use adds 5 only to x.Grad.
        Assert.Equal([0.0, 2.5, 3.0, 0.0, 2.5, 3.0], gradInput!.ToArray<double>());
        Assert.Equal([5.0, 7.5, 8.0, 5.0, 7.5, 8.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Full_backward_hook_can_replace_input_gradients()
    {
        var linear = Layer();
        using var handle = linear.RegisterFullBackwardHook((m, gi, go) => [gi[0]! * 10.0]);
        var x = Input();
        linear.Forward(x).Backward(Upstream);
        Assert.Equal(-10.0, x.Grad!.ToArray<double>()[0], 12);
        // Parameter gradients are not input gradients: ∂L/∂W = Gᵀ·x, unchanged.
        Assert.Equal([1 * 1 + -1 * 3, 1 * -2 + -1 * 0, 1 * 0.5 + -1 * 1], linear.Weight.Grad!.ToArray<double>()[..3]);
    }

    private sealed class Product : Module<(Tensor A, Tensor B), Tensor>
    {
        protected override Tensor ForwardCore((Tensor A, Tensor B) input) => input.A * input.B;
    }

    [Fact]
    public void Full_backward_hook_gets_every_input_gradient_at_once_and_can_replace_them()
    {
        var product = new Product();
        var seen = new List<double[]?>();
        product.RegisterFullBackwardHook((m, gi, go) =>
        {
            seen.AddRange(gi.Select(g => g?.ToArray<double>()));
            return [null, gi[1]! * 3.0];
        });
        var a = Tensor.FromArray(new[] { 2.0, 3.0 }).SetRequiresGrad();
        var b = Tensor.FromArray(new[] { 5.0, 7.0 }).SetRequiresGrad();
        product.Forward((a, b)).Sum().Backward();

        Assert.Equal(2, seen.Count);
        Assert.Equal(new[] { 5.0, 7.0 }, seen[0]);
        Assert.Equal(new[] { 2.0, 3.0 }, seen[1]);
        Assert.Null(a.Grad);
        Assert.Equal([6.0, 9.0], b.Grad!.ToArray<double>());
    }

    [Fact]
    public void Full_backward_hook_without_input_gradients_still_fires()
    {
        var linear = Layer();
        IReadOnlyList<Tensor?>? gradInputs = null, gradOutputs = null;
        linear.RegisterFullBackwardHook((Module m, IReadOnlyList<Tensor?> gi, IReadOnlyList<Tensor?> go) =>
        {
            gradInputs = gi;
            gradOutputs = go;
        });
        linear.Forward(Input(requiresGrad: false)).Backward(Upstream);
        Assert.Null(Assert.Single(gradInputs!));
        Assert.Equal(Upstream.ToArray<double>(), gradOutputs![0]!.ToArray<double>());
    }

    [Fact]
    public void Full_backward_hook_fires_once_per_backward_pass_and_stops_when_removed()
    {
        var linear = Layer();
        int calls = 0;
        var handle = linear.RegisterFullBackwardHook((Module m, IReadOnlyList<Tensor?> gi, IReadOnlyList<Tensor?> go) => calls++);
        var y = linear.Forward(Input());
        y.Backward(Upstream, retainGraph: true);
        y.Backward(Upstream);
        Assert.Equal(2, calls);
        handle.Remove();
        linear.Forward(Input()).Backward(Upstream);
        Assert.Equal(2, calls);
    }

    [Fact]
    public void Full_backward_hook_rejects_a_gradient_of_the_wrong_shape()
    {
        var linear = Layer();
        linear.RegisterFullBackwardHook((m, gi, go) => [Tensor.Zeros([3], DType.Float64)]);
        var e = Assert.Throws<ShapeMismatchException>(() => linear.Forward(Input()).Backward(Upstream));
        Assert.Contains("[2, 3]", e.Message);
    }

    private sealed class Pairwise : Module<(Tensor, int), Tensor>
    {
        protected override Tensor ForwardCore((Tensor, int) input) => input.Item1;
    }

    [Fact]
    public void Full_backward_hook_on_unsupported_input_types_is_refused()
    {
        Assert.Throws<NotSupportedException>(() => new Pairwise().RegisterFullBackwardHook((Module m, IReadOnlyList<Tensor?> gi, IReadOnlyList<Tensor?> go) => { }));
    }
}
