using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.AutogradTests;

public class CustomFunctionTests
{
    /// <summary>x³ with backward 3x²·g, written in Tensor ops (so it is twice differentiable).</summary>
    private sealed class Cube : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            return inputs[0] * inputs[0] * inputs[0];
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var x = ctx.SavedTensors[0]!;
            return [gradOutput * 3.0 * x * x];
        }

        protected override Tensor? Jvp(FunctionContext ctx, Tensor?[] inputTangents)
        {
            var x = ctx.SavedTensors[0]!;
            return inputTangents[0] is { } t ? t * 3.0 * x * x : null;
        }
    }

    /// <summary>a·b with b broadcast; records which inputs needed gradients and returns a broadcast-shaped one for b.</summary>
    private sealed class ScaleRows : Function
    {
        public bool[] Needed { get; private set; } = [];

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0], inputs[1]);
            Needed = [ctx.NeedsInputGrad(0), ctx.NeedsInputGrad(1)];
            return inputs[0] * inputs[1];
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var (a, b) = (ctx.SavedTensors[0]!, ctx.SavedTensors[1]!);
            // The gradient of b is returned at the output's shape: the node sums it back to b's.
            return [ctx.NeedsInputGrad(0) ? gradOutput * b : null, ctx.NeedsInputGrad(1) ? gradOutput * a : null];
        }
    }

    /// <summary>(sin x, cos x): two differentiable outputs.</summary>
    private sealed class SinCos : MultiOutputFunction
    {
        protected override Tensor[] Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            return [inputs[0].Sin(), inputs[0].Cos()];
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor[] gradOutputs)
        {
            var x = ctx.SavedTensors[0]!;
            return [gradOutputs[0] * x.Cos() - gradOutputs[1] * x.Sin()];
        }

        protected override Tensor?[] Jvp(FunctionContext ctx, Tensor?[] inputTangents)
        {
            var x = ctx.SavedTensors[0]!;
            var t = inputTangents[0]!;
            return [t * x.Cos(), -t * x.Sin()];
        }
    }

    /// <summary>(x clamped at 0, the mask where x &gt; 0 as float, marked non-differentiable, and the Int64 count of positives).</summary>
    private sealed class ReluWithMask : MultiOutputFunction
    {
        public Tensor[]? LastGradOutputs { get; private set; }

        protected override Tensor[] Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var mask = (inputs[0] > 0).To(inputs[0].DType);
            ctx.SaveForBackward(mask);
            ctx.MarkNonDifferentiable(mask);
            return [inputs[0] * mask, mask, mask.Sum().To(DType.Int64)];
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor[] gradOutputs)
        {
            LastGradOutputs = gradOutputs;
            return [gradOutputs[0] * ctx.SavedTensors[0]!];
        }
    }

    /// <summary>x² whose backward runs under NoGrad: right first derivatives, no second ones, and it says so.</summary>
    private sealed class SquareOnce : Function, IOnceDifferentiable
    {
        public static string OnceDifferentiableReason => "its backward computes 2x·g under NoGrad, as a fused kernel would.";

        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            return inputs[0] * inputs[0];
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            using (Autograd.NoGrad()) return [gradOutput * 2.0 * ctx.SavedTensors[0]!];
        }
    }

    /// <summary>Returns its input unchanged.</summary>
    private sealed class Identity : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0];

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => [gradOutput];
    }

    /// <summary>x³ with a backward that forgets the factor 3.</summary>
    private sealed class WrongCube : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            return inputs[0].Pow(3);
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => [gradOutput * ctx.SavedTensors[0]!.Pow(2)];
    }

    [Fact]
    public void A_custom_function_passes_gradcheck_and_gradgradcheck_like_a_built_in_op()
    {
        var x = Gradcheck.MakeInput([3, 4], new Generator(1));
        var first = Gradcheck.Check(t => new Cube().Apply(t[0]), [x]);
        Assert.True(first.Passed, first.ToString());
        var second = Gradgradcheck.Check(t => new Cube().Apply(t[0]), [x], generator: new Generator(2));
        Assert.True(second.Passed, second.ToString());
    }

    [Fact]
    public void Gradcheck_catches_a_custom_function_with_a_wrong_backward()
    {
        var x = Gradcheck.MakeInput(GradcheckInput.NonZero(5), new Generator(1));
        Assert.False(Gradcheck.Check(t => new WrongCube().Apply(t[0]), [x]).Passed);
    }

    [Fact]
    public void The_node_is_named_after_the_function_and_gradients_reach_the_input()
    {
        var x = Tensor.FromArray(new[] { 1.0, -2.0, 0.5 }).SetRequiresGrad();
        var y = new Cube().Apply(x);
        Assert.Equal("CubeBackward", y.GradFn!.Name);
        Assert.Equal([1.0, -8.0, 0.125], y.ToArray<double>());
        y.Sum().Backward();
        Assert.Equal([3.0, 12.0, 0.75], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void NeedsInputGrad_tells_which_inputs_need_gradients_and_broadcast_gradients_are_summed_back()
    {
        var a = Tensor.FromArray(new[,] { { 1.0, 2.0 }, { 3.0, 4.0 } }).SetRequiresGrad();
        var b = Tensor.FromArray(new[] { 10.0, 100.0 });
        var f = new ScaleRows();
        f.Apply(a, b).Sum().Backward();
        Assert.Equal([true, false], f.Needed);
        Assert.Equal([10.0, 100.0, 10.0, 100.0], a.Grad!.ToArray<double>());

        b.RequiresGrad = true;
        f.Apply(a, b).Sum().Backward();
        Assert.Equal([true, true], f.Needed);
        Assert.Equal([4.0, 6.0], b.Grad!.ToArray<double>());

        using (Autograd.NoGrad()) f.Apply(a, b);
        Assert.Equal([false, false], f.Needed);
    }

    [Fact]
    public void Changing_a_saved_tensor_in_place_makes_backward_throw_naming_the_function()
    {
        var leaf = Tensor.FromArray(new[] { 1.0, 2.0 }).SetRequiresGrad();
        var x = leaf * 1.0;
        var y = new Cube().Apply(x);
        x.AddInPlace(1.0);
        var error = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("CubeBackward", error.Message);
        Assert.Contains("modified by an in-place operation", error.Message);
    }

    [Fact]
    public void Saved_tensors_are_freed_after_backward_unless_the_graph_is_retained()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0 }).SetRequiresGrad();
        var y = new Cube().Apply(x);
        y.Sum().Backward();
        var error = Assert.Throws<InvalidOperationException>(() => y.Sum().Backward());
        Assert.Contains("CubeBackward", error.Message);
        Assert.Contains("retainGraph", error.Message);
    }

    [Fact]
    public void A_function_with_several_outputs_gets_one_gradient_per_output_and_zeros_for_an_unused_one()
    {
        var x = Gradcheck.MakeInput([2, 3], new Generator(4));
        var check = Gradcheck.Check(t =>
        {
            var outputs = new SinCos().Apply(t[0]);
            return outputs[0] * 2.0 + outputs[1] * outputs[1];
        }, [x]);
        Assert.True(check.Passed, check.ToString());
        var checkTwice = Gradgradcheck.Check(t =>
        {
            var outputs = new SinCos().Apply(t[0]);
            return outputs[0] * outputs[1];
        }, [x], generator: new Generator(5));
        Assert.True(checkTwice.Passed, checkTwice.ToString());

        // Only the cosine reaches the loss: d(Σ cos x)/dx = −sin x.
        var z = Tensor.FromArray(new[] { 0.3, -1.2 }).SetRequiresGrad();
        new SinCos().Apply(z)[1].Sum().Backward();
        var grad = z.Grad!.ToArray<double>();
        Assert.True(Math.Abs(grad[0] + Math.Sin(0.3)) <= 1e-15 && Math.Abs(grad[1] + Math.Sin(-1.2)) <= 1e-15, string.Join(", ", grad));
    }

    [Fact]
    public void Outputs_marked_non_differentiable_and_integer_outputs_do_not_require_grad()
    {
        var x = Tensor.FromArray(new[] { -1.0, 2.0, 3.0 }).SetRequiresGrad();
        var f = new ReluWithMask();
        var outputs = f.Apply(x);
        Assert.True(outputs[0].RequiresGrad);
        Assert.False(outputs[1].RequiresGrad);
        Assert.False(outputs[2].RequiresGrad);
        Assert.Equal(2L, outputs[2].Item<long>());
        (outputs[0] * Tensor.FromArray(new[] { 5.0, 6.0, 7.0 })).Sum().Backward();
        Assert.Equal([0.0, 6.0, 7.0], x.Grad!.ToArray<double>());
        // The non-differentiable outputs get zero gradients of their own shape and dtype.
        Assert.Equal([0.0, 0.0, 0.0], f.LastGradOutputs![1].ToArray<double>());
        Assert.Equal(DType.Int64, f.LastGradOutputs[2].DType);
    }

    [Fact]
    public void A_once_differentiable_function_gives_first_derivatives_and_refuses_a_second()
    {
        var x = Tensor.FromArray(new[] { 0.5, -1.5, 2.0 }).SetRequiresGrad();
        var first = Autograd.Grad([(new SquareOnce().Apply(x) * x).Sum()], [x], createGraph: true)[0]!;
        Assert.Equal([0.75, 6.75, 12.0], first.ToArray<double>());
        var error = Assert.Throws<InvalidOperationException>(() => Autograd.Grad([first.Sum()], [x]));
        Assert.Contains("SquareOnceBackward is once-differentiable: its backward cannot be differentiated (createGraph)", error.Message);
        Assert.Contains("under NoGrad, as a fused kernel would", error.Message);

        var input = Gradcheck.MakeInput([3], new Generator(5));
        Assert.True(Gradcheck.Check(t => new SquareOnce().Apply(t[0]), [input]).Passed);
        var gradgrad = Assert.Throws<InvalidOperationException>(() => Gradgradcheck.Check(t => new SquareOnce().Apply(t[0]), [input]));
        Assert.Contains("SquareOnceBackward is once-differentiable", gradgrad.Message);
    }

    [Fact]
    public void Returning_an_input_gives_a_new_tensor_and_leaves_the_input_a_leaf()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0 }).SetRequiresGrad();
        var y = new Identity().Apply(x);
        Assert.NotSame(x, y);
        Assert.True(x.IsLeaf);
        Assert.Equal("IdentityBackward", y.GradFn!.Name);
        (y * 3.0).Sum().Backward();
        Assert.Equal([3.0, 3.0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Backward_returning_the_wrong_number_or_shape_of_gradients_is_an_error_naming_the_function()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0 }).SetRequiresGrad();
        var tooMany = Assert.Throws<InvalidOperationException>(() => new TwoGradients().Apply(x).Sum().Backward());
        Assert.Contains("TwoGradients.Backward returned 2 gradients for 1 inputs", tooMany.Message);
        var wrongShape = Assert.Throws<ShapeMismatchException>(() => new WrongShape().Apply(x).Sum().Backward());
        Assert.Contains("WrongShape.Backward", wrongShape.Message);
        Assert.Contains("[3]", wrongShape.Message);
    }

    private sealed class TwoGradients : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0] * 2.0;

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => [gradOutput, gradOutput];
    }

    private sealed class WrongShape : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0] * 2.0;

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => [Tensor.Ones(3).To(DType.Float64)];
    }

    /// <summary>A layer whose activation is a custom function: softplus-like x + √(x² + 1), twice differentiable.</summary>
    private sealed class SquarePlus : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            var root = (inputs[0] * inputs[0] + 1.0).Sqrt();
            ctx.SaveForBackward(inputs[0], root);
            return (inputs[0] + root) * 0.5;
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            var (x, root) = (ctx.SavedTensors[0]!, ctx.SavedTensors[1]!);
            return [gradOutput * (x / root + 1.0) * 0.5];
        }
    }

    private sealed class SquarePlusNet : Module<Tensor, Tensor>
    {
        public SquarePlusNet(bool custom)
        {
            Custom = custom;
            Fc1 = new Linear(3, 8, dtype: DType.Float64, generator: new Generator(11));
            Fc2 = new Linear(8, 1, dtype: DType.Float64, generator: new Generator(12));
        }

        private bool Custom { get; }

        public Linear Fc1 { get; }

        public Linear Fc2 { get; }

        protected override Tensor ForwardCore(Tensor input)
        {
            var h = Fc1.Forward(input);
            var a = Custom ? new SquarePlus().Apply(h) : (h + (h * h + 1.0).Sqrt()) * 0.5;
            return Fc2.Forward(a);
        }
    }

    [Fact]
    public void A_custom_function_inside_a_model_trains_exactly_as_the_same_composition_of_built_in_ops()
    {
        var g = new Generator(3);
        var x = Tensor.Randn([16, 3], DType.Float64, generator: g);
        var target = (x.Sum(1, keepDim: true) * 0.5).Sin();
        var custom = new SquarePlusNet(custom: true);
        var reference = new SquarePlusNet(custom: false);
        var customOpt = new Sgd(custom.Parameters(), learningRate: 0.1);
        var referenceOpt = new Sgd(reference.Parameters(), learningRate: 0.1);
        double firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 20; step++)
        {
            customOpt.ZeroGrad();
            referenceOpt.ZeroGrad();
            var loss = Functional.MseLoss(custom.Forward(x), target);
            var referenceLoss = Functional.MseLoss(reference.Forward(x), target);
            loss.Backward();
            referenceLoss.Backward();
            Assert.True(Math.Abs(loss.Item() - referenceLoss.Item()) <= 1e-12 * Math.Abs(referenceLoss.Item()),
                $"step {step}: {loss.Item():R} vs {referenceLoss.Item():R}");
            if (step == 0) firstLoss = loss.Item();
            lastLoss = loss.Item();
            customOpt.Step();
            referenceOpt.Step();
        }
        Assert.True(lastLoss < 0.5 * firstLoss, $"loss went from {firstLoss} to {lastLoss}");
    }

    [Fact]
    public void The_forward_mode_rule_gives_the_tangent_of_one_and_of_several_outputs()
    {
        double[] x = [0.5, -1.25, 2.0], t = [1.0, -2.0, 0.5];
        var (value, tangent) = Transforms.Jvp(v => new Cube().Apply(v), Tensor.FromArray(x), Tensor.FromArray(t));
        Assert.Equal([0.125, -1.953125, 8.0], value.ToArray<double>());
        Assert.Equal([0.75, -9.375, 6.0], tangent.ToArray<double>());

        using (ForwardAD.DualLevel())
        {
            var dual = ForwardAD.MakeDual(Tensor.FromArray(x), Tensor.FromArray(t));
            var outputs = new SinCos().Apply(dual);
            var sinTangent = ForwardAD.UnpackDual(outputs[0]).Tangent!.ToArray<double>();
            var cosTangent = ForwardAD.UnpackDual(outputs[1]).Tangent!.ToArray<double>();
            for (int i = 0; i < 3; i++)
            {
                Assert.True(Math.Abs(sinTangent[i] - t[i] * Math.Cos(x[i])) <= 1e-15, $"d sin [{i}]");
                Assert.True(Math.Abs(cosTangent[i] + t[i] * Math.Sin(x[i])) <= 1e-15, $"d cos [{i}]");
            }
        }
    }

    /// <summary>x³ with a forward-mode rule that forgets the factor 3 (its backward is right).</summary>
    private sealed class CubeWrongJvp : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            return inputs[0].Pow(3);
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) => [gradOutput * 3.0 * ctx.SavedTensors[0]!.Pow(2)];

        protected override Tensor? Jvp(FunctionContext ctx, Tensor?[] inputTangents) => inputTangents[0]! * ctx.SavedTensors[0]!.Pow(2);
    }

    [Fact]
    public void Forward_gradcheck_checks_a_custom_forward_mode_rule_and_catches_a_wrong_one()
    {
        var x = Gradcheck.MakeInput([2, 3], new Generator(6));
        var cube = Gradcheck.CheckForward(t => new Cube().Apply(t[0]), [x]);
        Assert.True(cube.Passed, cube.ToString());
        var sinCos = Gradcheck.CheckForward(t =>
        {
            var outputs = new SinCos().Apply(t[0]);
            return outputs[0] * 2.0 + outputs[1] * outputs[1];
        }, [x]);
        Assert.True(sinCos.Passed, sinCos.ToString());
        Assert.False(Gradcheck.CheckForward(t => new CubeWrongJvp().Apply(t[0]), [x]).Passed);
    }

    [Fact]
    public void A_function_without_a_forward_mode_rule_fails_clearly_on_a_dual_input()
    {
        var error = Assert.Throws<NotSupportedException>(() =>
            Transforms.Jvp(v => new SquarePlus().Apply(v), Tensor.FromArray(new[] { 1.0 }), Tensor.FromArray(new[] { 1.0 })));
        Assert.Contains("SquarePlus has no forward-mode rule", error.Message);
    }

    [Fact]
    public void Hessians_go_through_a_custom_function_forward_over_reverse_and_reverse_over_reverse()
    {
        // f(x) = x₀·Σ cube(x): H = x₀·diag(6x) + e₀(3x²)ᵀ + (3x²)e₀ᵀ.
        double[] x = [0.5, -1.0, 1.5];
        Func<Tensor, Tensor> f = v => (new Cube().Apply(v) * v[0]).Sum();
        var forward = Transforms.Hessian(f, Tensor.FromArray(x)).ToArray<double>();
        var reverse = Transforms.Hessian(f, Tensor.FromArray(x), JacobianMode.Reverse).ToArray<double>();
        var expected = new double[9];
        for (int i = 0; i < 3; i++)
        {
            expected[i * 3 + i] += 6 * x[i] * x[0];
            expected[i] += 3 * x[i] * x[i];
            expected[i * 3] += 3 * x[i] * x[i];
        }
        for (int k = 0; k < 9; k++)
        {
            Assert.True(Math.Abs(forward[k] - expected[k]) <= 1e-13, $"forward-over-reverse H[{k}] = {forward[k]}, expected {expected[k]}");
            Assert.True(Math.Abs(reverse[k] - expected[k]) <= 1e-13, $"reverse-over-reverse H[{k}] = {reverse[k]}, expected {expected[k]}");
        }
    }
}
