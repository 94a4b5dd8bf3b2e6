namespace Backprop.Tests.AutogradTests;

public class EngineTests
{
    private static Tensor Leaf(params double[] values) => Tensor.FromArray(values).SetRequiresGrad();

    [Fact]
    public void Gradients_accumulate_across_backward_calls()
    {
        var x = Leaf(1, 2, 3);
        (x * 2.0).Sum().Backward();
        (x * 3.0).Sum().Backward();
        Assert.Equal([5.0, 5.0, 5.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Diamond_graph_sums_both_paths_into_a_reused_tensor()
    {
        // y = a·b + a·c with a = x², so ∂y/∂x = 2x(b + c).
        var x = Leaf(1.5);
        var a = x * x;
        var y = a * 2.0 + a * 5.0;
        y.Backward();
        Assert.Equal(2 * 1.5 * 7, x.Grad!.Item(), 12);
    }

    [Fact]
    public void Broadcast_gradient_is_reduced_to_the_input_shape()
    {
        var w = Tensor.Ones([3, 4], DType.Float64, requiresGrad: true);
        var b = Tensor.Zeros([4], DType.Float64, requiresGrad: true);
        var c = Tensor.Zeros([3, 1], DType.Float64, requiresGrad: true);
        (w + b + c).Sum().Backward();
        Assert.Equal(new Shape(4), b.Grad!.Shape);
        Assert.All(b.Grad.ToArray<double>(), v => Assert.Equal(3.0, v));
        Assert.Equal(new Shape(3, 1), c.Grad!.Shape);
        Assert.All(c.Grad.ToArray<double>(), v => Assert.Equal(4.0, v));
    }

    [Fact]
    public void Second_backward_through_a_freed_graph_throws_a_clear_error()
    {
        var x = Leaf(2);
        var y = (x * x).Sum();
        y.Backward();
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("second time", error.Message);
        Assert.Contains("retainGraph", error.Message);
    }

    [Fact]
    public void Retained_graph_can_be_differentiated_twice()
    {
        var x = Leaf(2);
        var y = (x * x).Sum();
        y.Backward(retainGraph: true);
        y.Backward();
        Assert.Equal(8.0, x.Grad!.Item(), 12);
    }

    [Fact]
    public void Backward_of_a_non_scalar_needs_a_gradient()
    {
        var x = Leaf(1, 2);
        var y = x * 3.0;
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("scalar", error.Message);
        y.Backward(Tensor.FromArray(new[] { 1.0, 10.0 }));
        Assert.Equal([3.0, 30.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Non_leaf_gradients_are_kept_only_when_retained()
    {
        var x = Leaf(1, 2);
        var h = x * 2.0;
        var k = h * 3.0;
        h.RetainGrad();
        k.Sum().Backward();
        Assert.False(h.IsLeaf);
        Assert.Equal([3.0, 3.0], h.Grad!.ToArray<double>());
        Assert.Null(k.Grad);
        Assert.True(x.IsLeaf);
    }

    [Fact]
    public void Detach_and_NoGrad_cut_the_graph()
    {
        var x = Leaf(3);
        var detached = x.Detach();
        Assert.False(detached.RequiresGrad);
        Tensor y;
        using (Backprop.Autograd.NoGrad()) y = x * x;
        Assert.False(y.RequiresGrad);
        Assert.Null(y.GradFn);
        var z = x * x;
        Assert.True(z.RequiresGrad);
        Assert.Equal("MulBackward", z.GradFn!.Name);
    }

    [Fact]
    public void In_place_change_of_a_saved_tensor_fails_at_backward_naming_op_shape_and_versions()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0, 3.0 }, 1, 3).SetRequiresGrad();
        var h = x * 2.0;
        var y = h.Exp(); // saves its output
        y.MulInPlace(0.5);
        var error = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("ExpBackward", error.Message);
        Assert.Contains("[1, 3]", error.Message);
        Assert.Contains("version 0", error.Message);
        Assert.Contains("version 1", error.Message);
        Assert.Contains("MulInPlace", error.Message);
    }

    [Fact]
    public void In_place_change_of_a_leaf_that_requires_grad_throws_at_once()
    {
        var w = Leaf(1, 2);
        var error = Assert.Throws<InvalidOperationException>(() => w.AddInPlace(1.0));
        Assert.Contains("leaf", error.Message);
        using (Backprop.Autograd.NoGrad()) w.AddInPlace(1.0);
        Assert.Equal([2.0, 3.0], w.ToArray<double>());
    }

    [Fact]
    public void In_place_op_on_a_non_leaf_is_recorded()
    {
        var x = Leaf(1, -2, 3);
        var h = x * 2.0;
        h.ReluInPlace();
        h.Sum().Backward();
        Assert.Equal([2.0, 0.0, 2.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Hooks_see_and_can_replace_gradients_and_can_be_removed()
    {
        var x = Leaf(1, 2);
        var h = x * 3.0;
        Tensor? seen = null;
        using (h.RegisterHook(g => { seen = g; }))
        using (x.RegisterHook(g => g * 10.0))
            h.Sum().Backward();
        Assert.Equal([1.0, 1.0], seen!.ToArray<double>());
        Assert.Equal([30.0, 30.0], x.Grad!.ToArray<double>());

        x.ZeroGrad();
        (x * 3.0).Sum().Backward();
        Assert.Equal([3.0, 3.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Functional_grad_returns_gradients_without_touching_Grad()
    {
        var x = Leaf(2);
        var y = x.Pow(3);
        var g = Backprop.Autograd.Grad([y.Sum()], [x]);
        Assert.Equal(12.0, g[0]!.Item(), 12);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Create_graph_gives_second_derivatives()
    {
        // d/dx x³ = 3x², d²/dx² = 6x.
        var x = Leaf(2);
        var first = Backprop.Autograd.Grad([x.Pow(3).Sum()], [x], createGraph: true)[0]!;
        Assert.Equal(12.0, first.Item(), 12);
        var second = Backprop.Autograd.Grad([first.Sum()], [x])[0]!;
        Assert.Equal(12.0, second.Item(), 12);

        // sin″ = −sin, through the saved-output path of Sin's backward.
        var z = Leaf(0.7);
        var dz = Backprop.Autograd.Grad([z.Sin().Sum()], [z], createGraph: true)[0]!;
        var d2z = Backprop.Autograd.Grad([dz.Sum()], [z])[0]!;
        Assert.Equal(-Math.Sin(0.7), d2z.Item(), 12);
    }

    [Theory]
    [InlineData("tanh")]
    [InlineData("sigmoid")]
    [InlineData("relu")]
    public void Fused_activation_backward_still_gives_second_derivatives(string activation)
    {
        // With createGraph the activations take their tensor-op backward, so it can be differentiated again.
        var x = Tensor.FromArray(new[] { -0.7, 0.4, 1.3 }).SetRequiresGrad();
        Func<Tensor, Tensor> f = activation switch { "tanh" => t => t.Tanh(), "sigmoid" => t => t.Sigmoid(), _ => t => t.Relu() * t };
        var first = Backprop.Autograd.Grad([f(x).Sum()], [x], createGraph: true)[0]!;
        var second = Backprop.Autograd.Grad([first.Sum()], [x])[0]!.ToArray<double>();
        var xs = x.ToArray<double>();
        for (int i = 0; i < xs.Length; i++)
        {
            double v = xs[i], expected = activation switch
            {
                "tanh" => -2 * Math.Tanh(v) * (1 - Math.Tanh(v) * Math.Tanh(v)),
                "sigmoid" => Sigmoid(v) * (1 - Sigmoid(v)) * (1 - 2 * Sigmoid(v)),
                _ => v > 0 ? 2 : 0, // (relu(x)·x)″ = 2 for x > 0
            };
            Assert.Equal(expected, second[i], 10);
        }
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    [Fact]
    public void A_gradient_a_hook_kept_is_never_changed_by_later_accumulation()
    {
        // The engine may hand a freshly computed gradient to the leaf instead of copying it; a hook's view of it
        // must stay what it was.
        var w = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0 }, 2, 2).SetRequiresGrad();
        var x = Tensor.FromArray(new[] { 1.0, 1.0 }, 1, 2);
        Tensor? kept = null;
        using (w.RegisterHook(g => { kept ??= g; }))
        {
            Backprop.Nn.Functional.Linear(x, w).Sum().Backward();
            Backprop.Nn.Functional.Linear(x, w).Sum().Backward();
        }
        Assert.Equal([1.0, 1.0, 1.0, 1.0], kept!.ToArray<double>());
        Assert.Equal([2.0, 2.0, 2.0, 2.0], w.Grad!.ToArray<double>());
    }

    [Fact]
    public void Parameters_never_share_a_gradient_buffer()
    {
        var a = Tensor.FromArray(new[] { 1.0, 2.0 }, 1, 2).SetRequiresGrad();
        var b = Tensor.FromArray(new[] { 3.0, 4.0 }, 2, 1).SetRequiresGrad();
        var c = a.MatMul(b) + a.MatMul(b);
        c.Sum().Backward();
        Assert.False(ReferenceEquals(a.Grad!.Storage, b.Grad!.Storage));
        using (Backprop.Autograd.NoGrad()) a.Grad.FillInPlace(0);
        Assert.Equal([2.0, 4.0], b.Grad.ToArray<double>()); // 2·aᵀ
        c = a.MatMul(b);
        c.Sum().Backward();
        Assert.Equal([3.0, 4.0], a.Grad.ToArray<double>()); // 0 + bᵀ, accumulated in a's own buffer
    }

    [Fact]
    public void Backward_on_a_tensor_without_grad_explains_what_to_do()
    {
        var x = Tensor.FromArray(new[] { 1.0 });
        var error = Assert.Throws<InvalidOperationException>(() => (x * 2.0).Sum().Backward());
        Assert.Contains("does not require grad", error.Message);
    }

    [Fact]
    public void Deep_chains_do_not_overflow_the_stack()
    {
        var x = Leaf(1);
        var y = x;
        for (int i = 0; i < 20000; i++) y = y * 1.0;
        y.Sum().Backward();
        Assert.Equal(1.0, x.Grad!.Item());
    }

    // Slices of one tensor add their gradients into the one the tensor gathers (Node.TryBackwardInto): the sums must be
    // those of the zero-padded gradients, whatever order the slices run in, overlapping windows included.
    [Fact]
    public void Slices_of_one_tensor_add_into_its_gathered_gradient()
    {
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4, 5, 6 }).Reshape(2, 3).SetRequiresGrad();
        var h = x * 1.0;
        var seen = new List<double[]>();
        h.RegisterHook(g => seen.Add(g.ToArray<double>()));
        h.RetainGrad();
        var loss = (h.Narrow(1, 0, 2) * 2.0).Sum() + (h.Narrow(1, 1, 2) * 3.0).Sum() + (h.Select(0, 1) * 10.0).Sum() + h.Sum();
        loss.Backward();
        double[] expected = [3, 6, 4, 13, 16, 14];
        Assert.Equal(expected, x.Grad!.ToArray<double>());
        Assert.Equal(expected, h.Grad!.ToArray<double>());
        Assert.Equal(expected, Assert.Single(seen));
    }

    [Fact]
    public void A_gradient_someone_else_holds_is_not_changed_by_a_slice()
    {
        // The retained gradient of y and the gradient a hook keeps are the tensors the first consumer produced; the
        // slice's contribution must arrive as a new sum, not written into them.
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4 }).SetRequiresGrad();
        var y = x * 1.0;
        Tensor? kept = null;
        var z = y * 1.0;
        z.RegisterHook(g => kept = g);
        var loss = z.Sum() + (y.Narrow(0, 1, 2) * 5.0).Sum();
        loss.Backward();
        Assert.Equal([1.0, 1, 1, 1], kept!.ToArray<double>());
        Assert.Equal([1.0, 6, 6, 1], x.Grad!.ToArray<double>());
    }
}
