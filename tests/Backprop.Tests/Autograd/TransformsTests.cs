namespace Backprop.Tests.AutogradTests;

/// <summary>The function transforms against hand-derived derivatives and central differences, in float64.</summary>
public class TransformsTests
{
    private static readonly double[,] A = { { 1.0, -2.0, 0.5 }, { 0.3, 0.7, -1.1 }, { 2.0, 0.0, 1.5 }, { -0.4, 1.2, 0.9 } };

    /// <summary>f(x) = A·tanh(x): ℝ³ → ℝ⁴, with J = A·diag(1 − tanh²x).</summary>
    private static Tensor F(Tensor x) => Tensor.FromArray(A).MatMul(x.Tanh());

    private static double[,] AnalyticJacobian(double[] x)
    {
        var j = new double[4, 3];
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 3; c++) j[r, c] = A[r, c] * (1 - Math.Tanh(x[c]) * Math.Tanh(x[c]));
        return j;
    }

    /// <summary>g(x) = Σ xᵢ³ + x₀x₁x₂ + sin(x₀)·x₂: a scalar with a full, non-constant Hessian.</summary>
    private static Tensor G(Tensor x) => x.Pow(3).Sum() + x[0] * x[1] * x[2] + x[0].Sin() * x[2];

    private static double[] GradientOfG(double[] x) =>
    [
        3 * x[0] * x[0] + x[1] * x[2] + Math.Cos(x[0]) * x[2],
        3 * x[1] * x[1] + x[0] * x[2],
        3 * x[2] * x[2] + x[0] * x[1] + Math.Sin(x[0]),
    ];

    private static double[,] HessianOfG(double[] x) => new[,]
    {
        { 6 * x[0] - Math.Sin(x[0]) * x[2], x[2], x[1] + Math.Cos(x[0]) },
        { x[2], 6 * x[1], x[0] },
        { x[1] + Math.Cos(x[0]), x[0], 6 * x[2] },
    };

    private static readonly double[] X = [0.4, -1.3, 0.9];

    private static Tensor Input() => Tensor.FromArray((double[])X.Clone());

    private static void AssertClose(double expected, double actual, double tolerance, string what) =>
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)), $"{what}: expected {expected:R}, got {actual:R}");

    private static void AssertMatrix(double[,] expected, Tensor actual, double tolerance, string what)
    {
        int rows = expected.GetLength(0), cols = expected.GetLength(1);
        Assert.Equal(rows * cols, actual.NumElements);
        var values = actual.ToArray<double>();
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) AssertClose(expected[r, c], values[r * cols + c], tolerance, $"{what}[{r}, {c}]");
    }

    [Fact]
    public void Grad_of_a_scalar_function_matches_the_analytic_gradient_and_has_no_history()
    {
        var x = Input();
        var gradient = Transforms.Grad(G)(x);
        Assert.Equal(x.Shape, gradient.Shape);
        Assert.False(gradient.RequiresGrad);
        var expected = GradientOfG(X);
        var actual = gradient.ToArray<double>();
        for (int i = 0; i < 3; i++) AssertClose(expected[i], actual[i], 1e-14, $"∂g/∂x{i}");

        var (g2, value) = Transforms.GradAndValue(G)(x);
        Assert.Equal(actual, g2.ToArray<double>());
        AssertClose(G(x).Item(), value.Item(), 0, "value");
    }

    [Fact]
    public void Grad_refuses_a_function_with_more_than_one_output_element()
    {
        var error = Assert.Throws<ArgumentException>(() => Transforms.Grad(F)(Input()));
        Assert.Contains("must return one element", error.Message);
        Assert.Contains("[4]", error.Message);
    }

    [Fact]
    public void Vjp_and_Jvp_are_a_row_and_a_column_combination_of_the_analytic_Jacobian()
    {
        var j = AnalyticJacobian(X);
        double[] v = [0.5, -1.0, 2.0, 0.25], t = [1.5, -0.5, 0.75];
        var (output, vjp) = Transforms.Vjp(F, Input());
        Assert.Equal(F(Input()).ToArray<double>(), output.ToArray<double>());
        var vj = vjp(Tensor.FromArray(v)).ToArray<double>();
        for (int c = 0; c < 3; c++)
        {
            double expected = 0;
            for (int r = 0; r < 4; r++) expected += v[r] * j[r, c];
            AssertClose(expected, vj[c], 1e-14, $"(vᵀJ)[{c}]");
        }
        // The vjp function can be called again (the graph is kept).
        Assert.Equal(vj, vjp(Tensor.FromArray(v)).ToArray<double>());

        var (primal, tangent) = Transforms.Jvp(F, Input(), Tensor.FromArray(t));
        Assert.Equal(F(Input()).ToArray<double>(), primal.ToArray<double>());
        var jt = tangent.ToArray<double>();
        for (int r = 0; r < 4; r++)
        {
            double expected = 0;
            for (int c = 0; c < 3; c++) expected += j[r, c] * t[c];
            AssertClose(expected, jt[r], 1e-14, $"(J·t)[{r}]");
        }
    }

    [Theory]
    [InlineData(JacobianMode.Reverse)]
    [InlineData(JacobianMode.Forward)]
    [InlineData(JacobianMode.Auto)]
    public void Jacobian_in_every_mode_matches_the_analytic_one_and_central_differences(JacobianMode mode)
    {
        var jacobian = Transforms.Jacobian(F, Input(), mode);
        Assert.Equal(new Shape(4, 3), jacobian.Shape);
        AssertMatrix(AnalyticJacobian(X), jacobian, 1e-14, $"J ({mode})");

        const double eps = 1e-6;
        var values = jacobian.ToArray<double>();
        for (int c = 0; c < 3; c++)
        {
            var plus = (double[])X.Clone();
            var minus = (double[])X.Clone();
            plus[c] += eps;
            minus[c] -= eps;
            var fPlus = F(Tensor.FromArray(plus)).ToArray<double>();
            var fMinus = F(Tensor.FromArray(minus)).ToArray<double>();
            for (int r = 0; r < 4; r++)
                AssertClose((fPlus[r] - fMinus[r]) / (2 * eps), values[r * 3 + c], 1e-8, $"J[{r}, {c}] vs central differences");
        }
    }

    [Fact]
    public void Jacobian_keeps_the_shapes_of_output_and_input()
    {
        var x = Tensor.FromArray(new[,] { { 0.1, 0.2, 0.3 }, { -0.4, 0.5, -0.6 } });
        var jacobian = Transforms.Jacobian(t => t.Sin().Sum(0), x);
        Assert.Equal(new Shape(3, 2, 3), jacobian.Shape);
        var forward = Transforms.Jacobian(t => t.Sin().Sum(0), x, JacobianMode.Forward);
        Assert.Equal(jacobian.ToArray<double>(), forward.ToArray<double>());
        // ∂(Σ_r sin x[r, c])/∂x[r', c'] = cos x[r', c'] when c = c'.
        var values = jacobian.ToArray<double>();
        var xs = x.ToArray<double>();
        for (int c = 0; c < 3; c++)
            for (int e = 0; e < 6; e++)
                AssertClose(e % 3 == c ? Math.Cos(xs[e]) : 0, values[c * 6 + e], 1e-15, $"J[{c}, {e}]");
    }

    [Theory]
    [InlineData(JacobianMode.Forward)]
    [InlineData(JacobianMode.Reverse)]
    public void Hessian_matches_the_analytic_one_and_central_differences_of_the_gradient(JacobianMode mode)
    {
        var hessian = Transforms.Hessian(G, Input(), mode);
        Assert.Equal(new Shape(3, 3), hessian.Shape);
        Assert.False(hessian.RequiresGrad);
        AssertMatrix(HessianOfG(X), hessian, 1e-13, $"H ({mode})");

        const double eps = 1e-6;
        var values = hessian.ToArray<double>();
        for (int c = 0; c < 3; c++)
        {
            var plus = (double[])X.Clone();
            var minus = (double[])X.Clone();
            plus[c] += eps;
            minus[c] -= eps;
            var gPlus = Transforms.Grad(G)(Tensor.FromArray(plus)).ToArray<double>();
            var gMinus = Transforms.Grad(G)(Tensor.FromArray(minus)).ToArray<double>();
            for (int r = 0; r < 3; r++)
                AssertClose((gPlus[r] - gMinus[r]) / (2 * eps), values[r * 3 + c], 1e-8, $"H[{r}, {c}] vs differences of the gradient");
        }
    }

    [Fact]
    public void Hessian_is_the_Jacobian_of_the_gradient()
    {
        var composed = Transforms.Jacobian(Transforms.Grad(G), Input(), JacobianMode.Reverse);
        Assert.Equal(Transforms.Hessian(G, Input(), JacobianMode.Reverse).ToArray<double>(), composed.ToArray<double>());
    }

    [Fact]
    public void Hvp_equals_the_Hessian_times_v()
    {
        double[] v = [0.3, -2.0, 1.25];
        var (value, product) = Transforms.Hvp(G, Input(), Tensor.FromArray(v));
        AssertClose(G(Input()).Item(), value.Item(), 0, "value");
        Assert.False(product.RequiresGrad);
        var h = HessianOfG(X);
        var hv = product.ToArray<double>();
        for (int r = 0; r < 3; r++)
        {
            double expected = 0;
            for (int c = 0; c < 3; c++) expected += h[r, c] * v[c];
            AssertClose(expected, hv[r], 1e-13, $"(H·v)[{r}]");
        }
    }

    [Fact]
    public void Grad_composes_with_itself_for_higher_derivatives()
    {
        // f(x) = x⁴ summed: f' = 4x³, f'' = 12x², f''' = 24x.
        Func<Tensor, Tensor> f = x => x.Pow(4).Sum();
        var second = Transforms.Grad(x => Transforms.Grad(f)(x).Sum());
        var third = Transforms.Grad(x => second(x).Sum());
        var input = Tensor.FromArray(new[] { 0.5, -1.5 });
        var s = second(input).ToArray<double>();
        var t = third(input).ToArray<double>();
        AssertClose(12 * 0.25, s[0], 1e-14, "f''(0.5)");
        AssertClose(12 * 2.25, s[1], 1e-14, "f''(-1.5)");
        AssertClose(24 * 0.5, t[0], 1e-14, "f'''(0.5)");
        AssertClose(24 * -1.5, t[1], 1e-14, "f'''(-1.5)");
    }

    [Fact]
    public void A_transform_of_an_input_that_requires_grad_carries_its_graph()
    {
        // d/dx of the gradient's sum: Σ_r H[r, c].
        var x = Input().SetRequiresGrad();
        var gradient = Transforms.Grad(G)(x);
        Assert.True(gradient.RequiresGrad);
        gradient.Sum().Backward();
        var h = HessianOfG(X);
        var grad = x.Grad!.ToArray<double>();
        for (int c = 0; c < 3; c++) AssertClose(h[0, c] + h[1, c] + h[2, c], grad[c], 1e-13, $"column sum {c}");
    }

    [Fact]
    public void The_Jacobian_of_a_function_of_an_empty_tensor_is_empty_in_both_modes()
    {
        var x = Tensor.Zeros(new Shape(0), DType.Float64);
        Func<Tensor, Tensor> f = v => v.Sum().Reshape(1) + 1.0;
        Assert.Equal(new Shape(1, 0), Transforms.Jacobian(f, x, JacobianMode.Forward).Shape);
        Assert.Equal(new Shape(1, 0), Transforms.Jacobian(f, x, JacobianMode.Reverse).Shape);
    }
}
