using Backprop.Diagnostics;
using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Docs;

/// <summary>The README's "AD modes" examples, run as written.</summary>
public class ReadmeAdModesTests
{
    // --- README: "AD modes" (the custom function) ---
    private sealed class Cube : Function
    {
        protected override Tensor Forward(FunctionContext ctx, Tensor[] inputs)
        {
            ctx.SaveForBackward(inputs[0]);
            return inputs[0].Pow(3);
        }

        protected override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput) =>
            [gradOutput * 3.0 * ctx.SavedTensors[0]!.Pow(2)];

        protected override Tensor? Jvp(FunctionContext ctx, Tensor?[] tangents) =>   // optional: forward mode
            tangents[0]! * 3.0 * ctx.SavedTensors[0]!.Pow(2);
    }

    [Fact]
    public void Custom_function_example_passes_its_checks()
    {
        var input = Gradcheck.MakeInput([3, 4], new Generator(1));
        var check = Gradcheck.Check(t => new Cube().Apply(t[0]), [input], checkForwardAd: true);   // check.Passed
        Assert.True(check.Passed, check.ToString());
    }

    [Fact]
    public void Transforms_example_computes_what_its_comments_say()
    {
        Func<Tensor, Tensor> f = x => x.Pow(3).Sum() + x[0] * x[1] * x[2];
        var x = Tensor.FromArray(new[] { 0.4, -1.3, 0.9 });
        var gradient = Transforms.Grad(f)(x);                          // ∇f(x)
        var hessian = Transforms.Hessian(f, x);                        // [3, 3], forward over reverse
        var (value, hv) = Transforms.Hvp(f, x, Tensor.FromArray(new[] { 1.0, 0.0, 0.0 }));   // H·v, no Hessian formed
        var jacobian = Transforms.Jacobian(v => v.Sin(), x);            // reverse or forward mode by shape (or JacobianMode.…)
        var (output, vjp) = Transforms.Vjp(v => v.Sin(), x);           // vjp(u) = uᵀ·J, one backward pass per call
        var (primal, jvp) = Transforms.Jvp(v => v.Sin(), x, Tensor.OnesLike(x));   // J·t, one forward pass
        // --- end ---
        Assert.Equal(new Shape(3, 3), hessian.Shape);
        Assert.Equal(new Shape(3, 3), jacobian.Shape);
        var h = hessian.ToArray<double>();
        // ∂²f/∂x0² = 6·x0, ∂²f/∂x0∂x1 = x2, ∂²f/∂x0∂x2 = x1: the first column is H·e0.
        Assert.Equal([h[0], h[3], h[6]], hv.ToArray<double>());
        Assert.True(Math.Abs(h[0] - 2.4) <= 1e-14 && Math.Abs(h[1] - 0.9) <= 1e-14 && Math.Abs(h[2] + 1.3) <= 1e-14, string.Join(", ", h));
        Assert.True(Math.Abs(gradient.ToArray<double>()[0] - (3 * 0.16 + -1.3 * 0.9)) <= 1e-14);
        Assert.Equal(f(x).Item(), value.Item());
        Assert.Equal(x.Sin().ToArray<double>(), output.ToArray<double>());
        Assert.Equal(x.Cos().ToArray<double>(), vjp(Tensor.OnesLike(x)).ToArray<double>());
        Assert.Equal(x.Cos().ToArray<double>(), jvp.ToArray<double>());
        Assert.Equal(x.Sin().ToArray<double>(), primal.ToArray<double>());
    }

    [Fact]
    public void Per_sample_and_second_order_examples_run()
    {
        var g = new Generator(2);
        var model = new Sequential(new Linear(4, 3, generator: g));
        var images = Tensor.Randn(new Shape(6, 4), generator: g);
        var labels = Tensor.FromArray(new long[] { 0, 1, 2, 0, 1, 2 });
        Tensor Loss() => Functional.CrossEntropy(model.Forward(images), labels);

        var perExample = PerSampleGradients.Compute(model, images, output => Functional.CrossEntropy(output, labels));
        Assert.Equal(new Shape(6, 3, 4), perExample["0.weight"].Shape);

        double before = Loss().Item();
        var lbfgs = new Lbfgs(model.Parameters(), lineSearch: LbfgsLineSearch.StrongWolfe);
        lbfgs.Step(() => { lbfgs.ZeroGrad(); var loss = Loss(); loss.Backward(); return loss; });
        var newton = new Newton(model.Parameters());
        newton.Step(Loss);                                             // no Backward: Newton differentiates twice itself
        Assert.True(Loss().Item() < before, $"{Loss().Item()} not below {before}");
    }
}
