namespace Backprop.Tests.AutogradTests;

public class ForwardADTests
{
    private static Tensor Vector(params double[] values) => Tensor.FromArray(values);

    private static void AssertClose(double[] expected, Tensor actual, double tolerance = 1e-12)
    {
        var values = actual.ToArray<double>();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(values[i] - expected[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"element {i}: {values[i]} vs {expected[i]}");
    }

    [Fact]
    public void Tangent_of_sin_times_x_is_the_product_rule()
    {
        double[] x = [0.3, -1.2, 2.0];
        double[] v = [1.0, 0.5, -2.0];
        using (ForwardAD.DualLevel())
        {
            var dual = ForwardAD.MakeDual(Vector(x), Vector(v));
            var (primal, tangent) = ForwardAD.UnpackDual(dual.Sin() * dual);
            AssertClose(x.Select(a => Math.Sin(a) * a).ToArray(), primal);
            Assert.NotNull(tangent);
            AssertClose(x.Select((a, i) => (Math.Cos(a) * a + Math.Sin(a)) * v[i]).ToArray(), tangent);
        }
    }

    [Fact]
    public void One_forward_pass_gives_one_column_of_the_jacobian()
    {
        var a = Tensor.FromArray(new[] { 1.0, 2, 3, 4, 5, 6 }, 2, 3);
        using (ForwardAD.DualLevel())
        {
            var x = ForwardAD.MakeDual(Vector(0.5, -1, 2), Vector(0, 1, 0));
            var tangent = ForwardAD.UnpackDual(a.MatMul(x).Exp().Sum(0)).Tangent!;
            // d/dx₁ Σᵢ exp((A·x)ᵢ) = Σᵢ exp((A·x)ᵢ)·A_i1.
            double[] ax = [1 * 0.5 + 2 * -1 + 3 * 2, 4 * 0.5 + 5 * -1 + 6 * 2];
            AssertClose([Math.Exp(ax[0]) * 2 + Math.Exp(ax[1]) * 5], tangent.Reshape(1));
        }
    }

    [Fact]
    public void Tangents_exist_only_inside_the_level()
    {
        Tensor dual, result;
        using (ForwardAD.DualLevel())
        {
            dual = ForwardAD.MakeDual(Vector(1, 2), Vector(3, 4));
            result = dual * 2.0;
            Assert.NotNull(ForwardAD.UnpackDual(result).Tangent);
        }
        Assert.Null(ForwardAD.UnpackDual(result).Tangent);
        using (ForwardAD.DualLevel())
        {
            Assert.Null(ForwardAD.UnpackDual(dual).Tangent);
            Assert.Null(ForwardAD.UnpackDual(dual * 2.0).Tangent);
        }
    }

    [Fact]
    public void Make_dual_refuses_a_tangent_of_another_shape_or_outside_a_level()
    {
        var outside = Assert.Throws<InvalidOperationException>(() => ForwardAD.MakeDual(Vector(1, 2), Vector(1, 2)));
        Assert.Contains("DualLevel", outside.Message);
        using var level = ForwardAD.DualLevel();
        var shape = Assert.Throws<ShapeMismatchException>(() => ForwardAD.MakeDual(Vector(1, 2), Vector(1, 2, 3)));
        Assert.Contains("[3]", shape.Message);
        Assert.Contains("[2]", shape.Message);
        Assert.Throws<ArgumentException>(() => ForwardAD.MakeDual(Vector(1, 2), Vector(1, 2).Float()));
        Assert.Throws<InvalidOperationException>(() => ForwardAD.DualLevel());
    }

    [Fact]
    public void Non_differentiable_outputs_carry_no_tangent()
    {
        using (ForwardAD.DualLevel())
        {
            var x = ForwardAD.MakeDual(Vector(3, 1, 2), Vector(1, 1, 1));
            Assert.Null(ForwardAD.UnpackDual(x.Gt(1.5)).Tangent);
            Assert.Null(ForwardAD.UnpackDual(x.ArgMax()).Tangent);
            Assert.Null(ForwardAD.UnpackDual(x.MaxWithIndices(0).Indices).Tangent);
            Assert.NotNull(ForwardAD.UnpackDual(x.MaxWithIndices(0).Values).Tangent);
        }
    }

    [Fact]
    public void Forward_mode_needs_no_grad_and_records_no_graph()
    {
        using (ForwardAD.DualLevel())
        using (Backprop.Autograd.NoGrad())
        {
            var x = ForwardAD.MakeDual(Vector(1, 2), Vector(1, 0));
            var y = (x * x).Sum();
            Assert.False(y.RequiresGrad);
            AssertClose([2.0], ForwardAD.UnpackDual(y).Tangent!.Reshape(1));
        }
    }

    [Fact]
    public void Primal_that_requires_grad_keeps_its_graph_through_the_dual()
    {
        var p = Vector(0.5, 1.5).SetRequiresGrad();
        using (ForwardAD.DualLevel())
        {
            var y = (ForwardAD.MakeDual(p, Vector(1, 1)).Exp()).Sum();
            y.Backward();
        }
        AssertClose([Math.Exp(0.5), Math.Exp(1.5)], p.Grad!);
    }

    /// <summary>Forward-over-reverse: a create-graph gradient computed inside the level on dual inputs has H·v as its tangent.</summary>
    [Theory]
    [InlineData("rosenbrock", true)]
    [InlineData("log-sum-exp of a matmul", true)]
    [InlineData("tanh mlp", true)]
    [InlineData("tanh mlp", false)]
    [InlineData("rosenbrock", false)]
    public void Gradient_of_a_dual_input_carries_the_hessian_vector_product(string function, bool createGraph)
    {
        Func<Tensor, Tensor> f = function switch
        {
            "rosenbrock" => x => ((1.0 - x.Narrow(0, 0, 3)).Square() + 100.0 * (x.Narrow(0, 1, 3) - x.Narrow(0, 0, 3).Square()).Square()).Sum(),
            "log-sum-exp of a matmul" => x => Tensor.FromArray(new[] { 1.0, -2, 0.5, 0.3, 1, -1, 2, 0.1 }, 2, 4).MatMul(x).Unsqueeze(0).LogSumExp(1).Sum(),
            _ => x => (Tensor.FromArray(new[] { 0.4, -0.3, 1.1, 0.2, -0.7, 0.5, 0.9, -1.2 }, 2, 4).MatMul(x.Tanh()).Tanh().Square()).Sum(),
        };
        var point = Vector(-1.2, 1.0, 0.4, -0.3);
        var v = Vector(0.5, -1.0, 2.0, 0.25);

        // Reference: the Hessian by reverse over reverse, one row per input element.
        var x0 = point.Clone().SetRequiresGrad();
        var grad = Backprop.Autograd.Grad([f(x0)], [x0], createGraph: true)[0]!;
        var hessian = new double[4, 4];
        for (int i = 0; i < 4; i++)
        {
            var row = Backprop.Autograd.Grad([grad[i]], [x0], retainGraph: true)[0]!.ToArray<double>();
            for (int j = 0; j < 4; j++) hessian[i, j] = row[j];
        }
        var vs = v.ToArray<double>();
        var expected = Enumerable.Range(0, 4).Select(i => Enumerable.Range(0, 4).Sum(j => hessian[i, j] * vs[j])).ToArray();

        var x = point.Clone().SetRequiresGrad();
        using (ForwardAD.DualLevel())
        {
            var dual = ForwardAD.MakeDual(x, v);
            // Without createGraph the backward runs under NoGrad: its tensor ops still carry tangents (the fused
            // kernels step aside while tangents flow).
            var g = Backprop.Autograd.Grad([f(dual)], [x], createGraph: createGraph)[0]!;
            var (_, hvp) = ForwardAD.UnpackDual(g);
            Assert.NotNull(hvp);
            AssertClose(expected, hvp, 1e-10);
        }
    }

    [Fact]
    public void Tangent_records_a_graph_to_the_primal_for_reverse_over_forward()
    {
        double[] values = [0.3, -1.2, 2.0];
        double[] v = [1.0, 0.5, -2.0];
        var x = Vector(values).SetRequiresGrad();
        using (ForwardAD.DualLevel())
        {
            var dual = ForwardAD.MakeDual(x, Vector(v));
            var tangent = ForwardAD.UnpackDual((dual.Sin() * dual).Exp()).Tangent!;
            // t = e^(x sin x)·(x cos x + sin x)·v, so ∂t/∂x = e^(x sin x)·((x cos x + sin x)² + 2 cos x − x sin x)·v.
            var gradient = Backprop.Autograd.Grad([tangent.Sum()], [x])[0]!;
            AssertClose(values.Select((a, i) =>
            {
                double slope = a * Math.Cos(a) + Math.Sin(a);
                return Math.Exp(a * Math.Sin(a)) * (slope * slope + 2 * Math.Cos(a) - a * Math.Sin(a)) * v[i];
            }).ToArray(), gradient, 1e-12);
        }
    }

    [Fact]
    public void In_place_op_on_a_dual_tensor_updates_its_tangent()
    {
        using (ForwardAD.DualLevel())
        {
            var x = ForwardAD.MakeDual(Vector(1, 2, 3), Vector(1, 1, 1)).Clone();
            x.MulInPlace(Vector(2, 3, 4));
            AssertClose([2, 3, 4], ForwardAD.UnpackDual(x).Tangent!);
            var plain = Vector(5, 5, 5);
            plain.AddInPlace(x);
            AssertClose([2, 3, 4], ForwardAD.UnpackDual(plain).Tangent!);
        }
    }

    [Fact]
    public void In_place_write_through_a_view_updates_the_base_and_view_tangents()
    {
        using (ForwardAD.DualLevel())
        {
            var x = Tensor.Zeros([2, 3], DType.Float64);
            var row = x[1];
            row.CopyFrom(ForwardAD.MakeDual(Vector(1, 2, 3), Vector(4, 5, 6)));
            AssertClose([0, 0, 0, 4, 5, 6], ForwardAD.UnpackDual(x).Tangent!.Reshape(-1));
            AssertClose([4, 5, 6], ForwardAD.UnpackDual(row).Tangent!);
            AssertClose([4, 5, 6], ForwardAD.UnpackDual(x[1]).Tangent!);
        }
    }

    [Fact]
    public void A_write_that_bypasses_the_tangent_is_an_error_not_a_stale_tangent()
    {
        using (ForwardAD.DualLevel())
        {
            var x = ForwardAD.MakeDual(Vector(1, 2), Vector(1, 1)).Clone();
            x.Detach().FillInPlace(3);
            var error = Assert.Throws<InvalidOperationException>(() => ForwardAD.UnpackDual(x));
            Assert.Contains("changed in place", error.Message);
        }
    }

    [Fact]
    public void Readme_examples_give_a_jacobian_column_and_a_hessian_vector_product()
    {
        var model = new Backprop.Nn.Sequential(new Backprop.Nn.Linear(3, 4, dtype: DType.Float64), new Backprop.Nn.Tanh(),
            new Backprop.Nn.Linear(4, 2, dtype: DType.Float64));
        var point = Vector(0.3, -0.8, 1.1).Unsqueeze(0);
        var direction = Vector(0, 1, 0).Unsqueeze(0);
        Tensor column;
        // --- README: "Forward mode" ---
        using (ForwardAD.DualLevel())
        {
            var x = ForwardAD.MakeDual(point, direction);
            var (y, jvp) = ForwardAD.UnpackDual(model.Forward(x));
            // --- end ---
            column = jvp!;
        }
        var input = point.Clone().SetRequiresGrad();
        var output = model.Forward(input);
        for (int i = 0; i < 2; i++)
        {
            var row = Backprop.Autograd.Grad([output[0, i]], [input], retainGraph: true)[0]!.ToArray<double>();
            double expected = row[1];
            Assert.True(Math.Abs(column[0, i].Item<double>() - expected) <= 1e-12 * Math.Max(1, Math.Abs(expected)), $"output {i}");
        }

        var w = Vector(0.5, -1.0).SetRequiresGrad();
        var v = Vector(1.0, 2.0);
        Tensor Loss(Tensor p) => (p.Pow(3) * p.Flip(0)).Sum();   // H = [[6w₀w₁, 3w₀² + 3w₁²], [3w₀² + 3w₁², 6w₀w₁]]
        Tensor? hv;
        // --- README: "Forward mode", forward-over-reverse ---
        using (ForwardAD.DualLevel())
        {
            var g = Backprop.Autograd.Grad([Loss(ForwardAD.MakeDual(w, v))], [w], createGraph: true)[0]!;
            hv = ForwardAD.UnpackDual(g).Tangent;                  // H·v
        }
        // --- end ---
        double a = 6 * 0.5 * -1.0, b = 3 * 0.25 + 3 * 1.0;
        AssertClose([a * 1 + b * 2, b * 1 + a * 2], hv!);
    }

    [Fact]
    public void Directional_derivative_of_a_cnn_loss_equals_its_gradient_dotted_with_the_direction()
    {
        var generator = new Generator(11);
        var model = new Backprop.Nn.Sequential(
            new Backprop.Nn.Conv2d(2, 3, 3, padding: 1, dtype: DType.Float64, generator: generator),
            new Backprop.Nn.BatchNorm2d(3, dtype: DType.Float64), new Backprop.Nn.Relu(), new Backprop.Nn.MaxPool2d(2),
            new Backprop.Nn.Flatten(), new Backprop.Nn.Linear(12, 3, dtype: DType.Float64, generator: generator));
        var images = Tensor.Randn(new Shape([2, 2, 4, 4]), DType.Float64, generator: generator);
        var labels = Tensor.FromArray(new long[] { 2, 0 });
        var direction = Tensor.Randn(new Shape([2, 2, 4, 4]), DType.Float64, generator: generator);

        var input = images.Clone().SetRequiresGrad();
        Backprop.Nn.Functional.CrossEntropy(model.Forward(input), labels).Backward();
        double expected = (input.Grad! * direction).Sum().Item<double>();

        double actual;
        using (ForwardAD.DualLevel())
        using (Backprop.Autograd.NoGrad())
            actual = ForwardAD.UnpackDual(Backprop.Nn.Functional.CrossEntropy(model.Forward(ForwardAD.MakeDual(images, direction)), labels)).Tangent!.Item<double>();
        Assert.True(Math.Abs(actual - expected) <= 1e-10 * Math.Max(1, Math.Abs(expected)), $"{actual} vs {expected}");
    }

    /// <summary>
    /// At points where the derivative is undefined, forward mode makes the backward's (PyTorch's) choice: the JVP is
    /// the transpose of the VJP there too, ⟨J·v, u⟩ = ⟨v, Jᵀ·u⟩, for every direction.
    /// </summary>
    [Theory]
    [InlineData("abs at 0")]
    [InlineData("relu at 0")]
    [InlineData("clamp at its bounds")]
    [InlineData("maximum of ties")]
    [InlineData("max reduction with ties")]
    [InlineData("median of ties")]
    [InlineData("norm of zero")]
    [InlineData("pow with zero base")]
    public void Jvp_at_a_kink_is_the_transpose_of_the_vjp(string name)
    {
        var x = Vector(0.0, 1.5, -1.0, 1.5, 0.0, 2.0);
        Func<Tensor, Tensor> f = name switch
        {
            "abs at 0" => t => t.Abs(),
            "relu at 0" => t => t.Relu(),
            "clamp at its bounds" => t => t.Clamp(-1.0, 1.5),
            "maximum of ties" => t => Tensor.Maximum(t, t.Flip(0)),
            "max reduction with ties" => t => t.Reshape(2, 3).Max(0),
            "median of ties" => t => t.Median(),
            "norm of zero" => t => (t - t.Detach()).Norm(),
            _ => t => Tensor.Pow(t, Vector(2.0, 0.0, 3.0, 0.0, 1.0, 1.0)),
        };
        var generator = new Generator(4);
        var v = Tensor.FromArray(Enumerable.Range(0, 6).Select(_ => generator.NextDouble() - 0.5).ToArray());
        var leaf = x.Clone().SetRequiresGrad();
        var output = f(leaf);
        var u = Tensor.FromArray(Enumerable.Range(0, output.NumElements).Select(_ => generator.NextDouble() - 0.5).ToArray()).Reshape(output.Sizes);
        double vDotVjp = (Backprop.Autograd.Grad([output], [leaf], [u])[0]! * v).Sum().Item<double>();
        double jvpDotU;
        using (ForwardAD.DualLevel())
            jvpDotU = (ForwardAD.UnpackDual(f(ForwardAD.MakeDual(x, v))).Tangent! * u).Sum().Item<double>();
        Assert.True(Math.Abs(jvpDotU - vDotVjp) <= 1e-12, $"{name}: <Jv, u> = {jvpDotU}, <v, J^T u> = {vDotVjp}");
    }
}
