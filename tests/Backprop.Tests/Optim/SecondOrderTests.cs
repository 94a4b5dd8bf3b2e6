using Backprop.Nn;
using Backprop.Optim;
using Xunit.Abstractions;

namespace Backprop.Tests.Optim;

/// <summary>L-BFGS and damped Newton on Rosenbrock's function and a logistic regression, against plain gradient descent.</summary>
public class SecondOrderTests(ITestOutputHelper output)
{
    private static readonly double[] Start = [-1.5, 2.0];

    /// <summary>(1 − x)² + 100·(y − x²)², minimum 0 at (1, 1).</summary>
    private static Tensor Rosenbrock(Tensor p)
    {
        var (x, y) = (p[0], p[1]);
        return (1.0 - x).Pow(2) + 100.0 * (y - x * x).Pow(2);
    }

    private static double DistanceToOptimum(Tensor p)
    {
        var v = p.ToArray<double>();
        return Math.Max(Math.Abs(v[0] - 1), Math.Abs(v[1] - 1));
    }

    private const double GradientDescentRate = 5e-4;

    /// <summary>Gradient descent on Rosenbrock with the analytic gradient, in doubles: iterations to reach (1, 1) within 1e-8.</summary>
    private static int GradientDescentIterations(int limit)
    {
        double x = Start[0], y = Start[1];
        for (int k = 1; k <= limit; k++)
        {
            double gx = -2 * (1 - x) - 400 * x * (y - x * x);
            double gy = 200 * (y - x * x);
            x -= GradientDescentRate * gx;
            y -= GradientDescentRate * gy;
            if (Math.Max(Math.Abs(x - 1), Math.Abs(y - 1)) <= 1e-8) return k;
        }
        return -1;
    }

    [Fact]
    public void Sgd_follows_the_gradient_descent_reference_trajectory()
    {
        // The counted reference is the library's Sgd: same steps, to rounding.
        var p = Tensor.FromArray((double[])Start.Clone()).SetRequiresGrad();
        var sgd = new Sgd([p], learningRate: GradientDescentRate);
        double x = Start[0], y = Start[1];
        for (int k = 0; k < 200; k++)
        {
            sgd.ZeroGrad();
            Rosenbrock(p).Backward();
            sgd.Step();
            double gx = -2 * (1 - x) - 400 * x * (y - x * x), gy = 200 * (y - x * x);
            (x, y) = (x - GradientDescentRate * gx, y - GradientDescentRate * gy);
        }
        var v = p.ToArray<double>();
        Assert.True(Math.Abs(v[0] - x) <= 1e-12 && Math.Abs(v[1] - y) <= 1e-12, $"Sgd at ({v[0]}, {v[1]}), reference at ({x}, {y})");
    }

    [Fact]
    public void Lbfgs_with_strong_Wolfe_reaches_the_Rosenbrock_minimum_in_far_fewer_iterations_than_gradient_descent()
    {
        var p = Tensor.FromArray((double[])Start.Clone()).SetRequiresGrad();
        var lbfgs = new Lbfgs([p], maxIter: 200, toleranceGrad: 1e-14, toleranceChange: 1e-16, historySize: 10, lineSearch: LbfgsLineSearch.StrongWolfe);
        lbfgs.Step(() =>
        {
            lbfgs.ZeroGrad();
            var loss = Rosenbrock(p);
            loss.Backward();
            return loss;
        });
        double distance = DistanceToOptimum(p);
        int gd = GradientDescentIterations(1_000_000);
        output.WriteLine($"L-BFGS (strong Wolfe): {lbfgs.Iterations} iterations, {lbfgs.FunctionEvaluations} evaluations, distance {distance:E2}; gradient descent (lr {GradientDescentRate}): {gd} iterations");
        Assert.True(distance <= 1e-8, $"L-BFGS stopped {distance:E2} from (1, 1) after {lbfgs.Iterations} iterations");
        Assert.True(gd > 0, "gradient descent did not reach the minimum within a million iterations");
        Assert.True(lbfgs.Iterations * 100 < gd, $"L-BFGS took {lbfgs.Iterations} iterations, gradient descent {gd}");
    }

    [Fact]
    public void Lbfgs_without_line_search_follows_PyTorch_defaults_and_decreases_the_loss()
    {
        var p = Tensor.FromArray((double[])Start.Clone()).SetRequiresGrad();
        var lbfgs = new Lbfgs([p]);
        Assert.Equal(25, lbfgs.MaxEval);
        Assert.Equal(100, lbfgs.HistorySize);
        double first = Rosenbrock(p).Item();
        var returned = lbfgs.Step(() =>
        {
            lbfgs.ZeroGrad();
            var loss = Rosenbrock(p);
            loss.Backward();
            return loss;
        });
        Assert.Equal(first, returned.Item());
        Assert.True(Rosenbrock(p).Item() < first, $"loss {Rosenbrock(p).Item()} not below {first}");
        Assert.True(lbfgs.FunctionEvaluations <= 25, $"{lbfgs.FunctionEvaluations} evaluations, more than maxEval");
    }

    [Fact]
    public void Cubic_interpolation_finds_the_minimum_of_a_cubic()
    {
        // q(t) = (t − 1)² + 0.1·(t − 1)³ ... on [0, 2]: its minimiser from values and slopes at 0 and 2 is t = 1.
        static double Q(double t) => (t - 1) * (t - 1) + 0.1 * Math.Pow(t - 1, 3);
        static double Dq(double t) => 2 * (t - 1) + 0.3 * (t - 1) * (t - 1);
        double t = Lbfgs.CubicInterpolate(0, Q(0), Dq(0), 2, Q(2), Dq(2), null);
        Assert.True(Math.Abs(t - 1) <= 1e-12, $"minimiser {t}");
    }

    [Fact]
    public void Newton_reaches_the_Rosenbrock_minimum_from_the_same_start()
    {
        var p = Tensor.FromArray((double[])Start.Clone()).SetRequiresGrad();
        var newton = new Newton([p]);
        for (int k = 0; k < 100 && DistanceToOptimum(p) > 1e-8; k++) newton.Step(() => Rosenbrock(p));
        output.WriteLine($"Newton: {newton.Iterations} iterations, distance {DistanceToOptimum(p):E2}");
        Assert.True(DistanceToOptimum(p) <= 1e-8, $"Newton stopped {DistanceToOptimum(p):E2} from (1, 1)");
        Assert.True(newton.Iterations <= 50, $"Newton took {newton.Iterations} iterations");
    }

    [Fact]
    public void Newton_falls_back_to_damping_where_the_Hessian_is_indefinite()
    {
        // At (0, 1) Rosenbrock's Hessian is [[2 − 400, 0], [0, 200]]: not positive-definite.
        var p = Tensor.FromArray(new[] { 0.0, 1.0 }).SetRequiresGrad();
        var newton = new Newton([p]);
        double before = Rosenbrock(p).Item();
        newton.Step(() => Rosenbrock(p));
        Assert.True(newton.LastStep!.Damping > 398, $"damping {newton.LastStep.Damping} does not make H positive-definite");
        Assert.False(newton.LastStep.SteepestDescent);
        Assert.True(Rosenbrock(p).Item() < before, $"the damped step did not decrease the loss: {newton.LastStep} {Rosenbrock(p).Item()} at {string.Join(", ", p.ToArray<double>())}");
    }

    [Fact]
    public void Newton_fits_a_logistic_regression_in_a_handful_of_steps()
    {
        // 200 points from a known logistic model in 3 features (and a bias), not separable.
        var g = new Generator(21);
        var features = Tensor.Randn([200, 3], DType.Float64, generator: g);
        var trueWeights = Tensor.FromArray(new[] { 1.5, -2.0, 0.5 });
        var probability = (features.MatMul(trueWeights) + 0.3).Sigmoid();
        var labels = (Tensor.Rand(new Shape(200), DType.Float64, generator: g) < probability).To(DType.Float64);
        var model = new Linear(3, 1, dtype: DType.Float64, generator: g);
        Tensor Loss() => Functional.BinaryCrossEntropyWithLogits(model.Forward(features).Squeeze(1), labels);

        double GradientNorm()
        {
            // Checked independently of the optimizer.
            var grads = Backprop.Autograd.Grad([Loss()], model.Parameters().ToArray<Tensor>());
            return Math.Sqrt(grads.Sum(t => (t! * t!).Sum().Item()));
        }

        var newton = new Newton(model.Parameters());
        var norms = new List<double> { GradientNorm() };
        while (norms[^1] >= 1e-10 && newton.Iterations < 20)
        {
            newton.Step(Loss);
            norms.Add(GradientNorm());
        }
        output.WriteLine("Newton on logistic regression, ‖g‖ after each step: " + string.Join(", ", norms.Select(n => n.ToString("E2"))));
        Assert.True(norms[^1] < 1e-10, $"gradient norm {norms[^1]:E2} after {newton.Iterations} steps");
        Assert.True(newton.Iterations <= 8, $"Newton took {newton.Iterations} steps: " + string.Join(", ", norms));
        // Quadratic convergence: over the last two steps the gradient norm falls to at most 10·(its previous value)².
        for (int k = norms.Count - 2; k < norms.Count; k++)
            Assert.True(norms[k] <= 10 * norms[k - 1] * norms[k - 1], string.Join(", ", norms));
    }
}
