using Backprop.Diagnostics;
using F = Backprop.Nn.Functional;

namespace Backprop.Tests.AutogradTests;

/// <summary>
/// Second derivatives end to end: an input-gradient penalty P = ‖∂L/∂x‖² through the fused losses and
/// normalisations, differentiated by double backward and by central differences; and once-differentiable ops,
/// which must refuse to be differentiated twice rather than answer wrongly.
/// </summary>
public class SecondDerivativeTests
{
    private const int Batch = 4, Features = 3, Hidden = 5, Classes = 3;

    private static readonly Tensor X = Tensor.Randn(new Shape(Batch, Features), DType.Float64, new Generator(11));
    private static readonly Tensor B1 = Tensor.Randn(new Shape(Hidden), DType.Float64, new Generator(12)) * 0.1;
    private static readonly Tensor W2 = Tensor.Randn(new Shape(Classes, Hidden), DType.Float64, new Generator(13)) * 0.5;
    private static readonly Tensor B2 = Tensor.Randn(new Shape(Classes), DType.Float64, new Generator(14)) * 0.1;
    private static readonly Tensor ClassTargets = Tensor.FromArray(new long[] { 2, 0, 1, 2 });
    private static readonly Tensor RealTargets = Tensor.Randn(new Shape(Batch, Classes), DType.Float64, new Generator(15)) * 1.5;
    private static readonly Tensor ProbabilityTargets = Tensor.Rand(new Shape(Batch, Classes), DType.Float64, new Generator(16));
    private static readonly double[] W1 = Tensor.Randn(new Shape(Hidden, Features), DType.Float64, new Generator(17)).ToArray<double>();

    /// <summary>The loss of a Linear–Tanh–(norm)–Linear network with the given head.</summary>
    private static Tensor Loss(string head, Tensor x, Tensor w1)
    {
        var h = F.Linear(x, w1, B1).Tanh();
        return head switch
        {
            "cross-entropy" => F.CrossEntropy(F.Linear(h, W2, B2), ClassTargets),
            "layer norm, Huber" => F.HuberLoss(F.Linear(F.LayerNorm(h, [Hidden]), W2, B2), RealTargets, delta: 0.5),
            "batch norm, binary cross-entropy" => F.BinaryCrossEntropy(
                F.Linear(F.BatchNorm(h, null, null, training: true), W2, B2).Sigmoid(), ProbabilityTargets),
            "group norm, smooth L1" => F.SmoothL1Loss(F.Linear(F.GroupNorm(h.Unsqueeze(-1), 1).Squeeze(-1), W2, B2), RealTargets),
            _ => throw new ArgumentException(head),
        };
    }

    /// <summary>P = ‖∂L/∂x‖² for first-layer weights <paramref name="w1"/>; with a graph of ∂L/∂x when asked.</summary>
    private static Tensor Penalty(string head, Tensor w1, bool createGraph)
    {
        var x = X.Detach().SetRequiresGrad();
        var gradX = Backprop.Autograd.Grad([Loss(head, x, w1)], [x], createGraph: createGraph)[0]!;
        return (gradX * gradX).Sum();
    }

    [Theory]
    [InlineData("cross-entropy")]
    [InlineData("layer norm, Huber")]
    [InlineData("batch norm, binary cross-entropy")]
    [InlineData("group norm, smooth L1")]
    public void Input_gradient_penalty_differentiates_by_double_backward_as_by_finite_differences(string head)
    {
        var w1 = Tensor.FromArray(W1, Hidden, Features).SetRequiresGrad();
        var analytical = Backprop.Autograd.Grad([Penalty(head, w1, createGraph: true)], [w1])[0]!.ToArray<double>();

        const double eps = 1e-6;
        for (int e = 0; e < W1.Length; e++)
        {
            double At(double delta)
            {
                var shifted = (double[])W1.Clone();
                shifted[e] += delta;
                return Penalty(head, Tensor.FromArray(shifted, Hidden, Features).SetRequiresGrad(), createGraph: false).Item();
            }
            double numerical = (At(eps) - At(-eps)) / (2 * eps);
            Assert.True(Math.Abs(analytical[e] - numerical) <= 1e-7 + 1e-5 * Math.Abs(numerical),
                $"{head}: dP/dW1[{e}] is {analytical[e]:G8} by double backward but {numerical:G8} by finite differences");
        }
    }

    /// <summary>x² with a correct first derivative and a backward that is not differentiable (it runs its formula under NoGrad).</summary>
    private sealed class SquareOnceOp : Node, IOnceDifferentiable
    {
        public static string OnceDifferentiableReason => "A test op whose backward computes 2x under NoGrad.";

        private SquareOnceOp(Tensor x) : base(x) => Save(x);

        public static Tensor Apply(Tensor x)
        {
            Tensor y;
            using (Backprop.Autograd.NoGrad()) y = x * x;
            return x.RequiresGrad ? new SquareOnceOp(x).Attach(y) : y;
        }

        protected internal override void Backward(Tensor gradOutput, Tensor?[] gradInputs)
        {
            using (Backprop.Autograd.NoGrad()) gradInputs[0] = gradOutput * Saved(0) * 2.0;
        }
    }

    [Fact]
    public void A_once_differentiable_op_gives_first_derivatives_with_and_without_createGraph()
    {
        var x = Tensor.FromArray(new[] { 0.5, -1.5, 2.0 }).SetRequiresGrad();
        var plain = Backprop.Autograd.Grad([SquareOnceOp.Apply(x).Sum()], [x])[0]!;
        var withGraph = Backprop.Autograd.Grad([SquareOnceOp.Apply(x).Sum()], [x], createGraph: true)[0]!;
        Assert.Equal([1.0, -3.0, 4.0], plain.ToArray<double>());
        Assert.Equal([1.0, -3.0, 4.0], withGraph.ToArray<double>());
        // A later function of that gradient that nobody differentiates is fine.
        Assert.Equal(26.0, (withGraph * withGraph).Sum().Item());
    }

    [Fact]
    public void Differentiating_a_once_differentiable_op_twice_throws_naming_the_op()
    {
        var x = Tensor.FromArray(new[] { 0.5, -1.5, 2.0 }).SetRequiresGrad();
        var first = Backprop.Autograd.Grad([(SquareOnceOp.Apply(x) * x).Sum()], [x], createGraph: true)[0]!;
        Assert.True(first.RequiresGrad, "the gradient depends on x, so it must carry a graph (the error marker at least)");
        var error = Assert.Throws<InvalidOperationException>(() => Backprop.Autograd.Grad([first.Sum()], [x]));
        Assert.Contains("SquareOnceBackward is once-differentiable: its backward cannot be differentiated (createGraph)", error.Message);
        Assert.Contains("computes 2x under NoGrad", error.Message);

        // Gradgradcheck reports the same error instead of a wrong table entry.
        var input = Gradcheck.MakeInput([3], new Generator(5));
        var gradgrad = Assert.Throws<InvalidOperationException>(() => Gradgradcheck.Check(t => SquareOnceOp.Apply(t[0]), [input]));
        Assert.Contains("SquareOnceBackward is once-differentiable", gradgrad.Message);
    }

    /// <summary>x³ whose backward multiplies by 3x² computed under NoGrad: first derivatives right, second ones wrong.</summary>
    private sealed class CubeWithConstantSlopeOp : Node
    {
        private CubeWithConstantSlopeOp(Tensor x) : base(x) => Save(x);

        public static Tensor Apply(Tensor x)
        {
            Tensor y;
            using (Backprop.Autograd.NoGrad()) y = x * x * x;
            return x.RequiresGrad ? new CubeWithConstantSlopeOp(x).Attach(y) : y;
        }

        protected internal override void Backward(Tensor gradOutput, Tensor?[] gradInputs)
        {
            Tensor slope;
            using (Backprop.Autograd.NoGrad()) slope = Saved(0) * Saved(0) * 3.0;
            gradInputs[0] = gradOutput * slope;
        }
    }

    [Fact]
    public void Gradgradcheck_catches_a_backward_that_differentiates_a_constant()
    {
        var input = Gradcheck.MakeInput([4], new Generator(7));
        Assert.True(Gradcheck.Check(t => CubeWithConstantSlopeOp.Apply(t[0]), [input]).Passed, "its first derivative is right");

        var result = Gradgradcheck.Check(t => CubeWithConstantSlopeOp.Apply(t[0]), [input], generator: new Generator(8));
        Assert.False(result.Passed);
        Assert.False(result.Inputs[0].Passed, "the missing 6x·v term is a derivative with respect to x");
        Assert.True(result.GradOutput.Passed, "the slope itself is right, so the derivative with respect to v is");
        Assert.Contains("FAILED at ∂/∂input 0", result.ToString());

        var correct = Gradgradcheck.Check(t => t[0] * t[0] * t[0], [input], generator: new Generator(8));
        Assert.True(correct.Passed, correct.ToString());
    }
}
