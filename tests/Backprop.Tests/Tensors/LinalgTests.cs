namespace Backprop.Tests.Tensors;

/// <summary>Reference semantics of torch.linalg's functions: each result checked against its defining identity or hand-derived values.</summary>
public class LinalgTests
{
    private static Tensor Random(int seed, params int[] shape) =>
        Tensor.Uniform(new Shape(shape), -1, 1, DType.Float64, new Generator((ulong)seed));

    private static Tensor Matrix(double[,] values) => Tensor.FromArray(values);

    private static Tensor Identity(int n) => Tensor.Eye(n, DType.Float64);

    /// <summary>|actual − expected| ≤ atol + rtol·|expected| element by element, with both shapes equal.</summary>
    private static void AssertClose(Tensor expected, Tensor actual, double atol, double rtol, string what)
    {
        Assert.True(expected.Shape == actual.Shape, $"{what}: shape {actual.Shape}, expected {expected.Shape}");
        var (e, a) = (expected.ToArray<double>(), actual.ToArray<double>());
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(a[i] - e[i]) <= atol + rtol * Math.Abs(e[i]), $"{what}: element {i} is {a[i]:R}, expected {e[i]:R}");
    }

    private static void AssertOrthonormalColumns(Tensor q, string what) =>
        AssertClose(Identity(q.Sizes[^1]).ExpandAs(q.MT.MatMul(q)), q.MT.MatMul(q), 1e-13, 0, what + " orthonormal");

    [Fact]
    public void Solve_returns_x_with_a_x_equal_to_b_for_matrices_vectors_and_broadcast_batches()
    {
        var a = Random(1, 2, 4, 4) + 4.0 * Identity(4);
        var b = Random(2, 2, 4, 3);
        AssertClose(b, a.MatMul(Linalg.Solve(a, b)), 1e-13, 0, "A·X");
        var vector = Random(3, 2, 4);
        var x = Linalg.Solve(a, vector);
        Assert.Equal(new Shape(2, 4), x.Shape);
        AssertClose(vector, a.MatMul(x.Unsqueeze(-1)).Squeeze(-1), 1e-13, 0, "A·x for a batch of vectors");
        var shared = Random(4, 4, 2);
        AssertClose(shared.ExpandTo([2, 4, 2]), a.MatMul(Linalg.Solve(a, shared)), 1e-13, 0, "A·X with B broadcast over the batch");
        AssertClose(b, a.MT.MatMul(Linalg.Solve(a.MT, b)), 1e-13, 0, "transposed (non-contiguous) A");
    }

    [Fact]
    public void Inv_times_a_is_the_identity_and_a_singular_matrix_throws_naming_the_op_and_shape()
    {
        var a = Random(5, 3, 3) + 3.0 * Identity(3);
        AssertClose(Identity(3), Linalg.Inv(a).MatMul(a), 1e-14, 0, "A⁻¹·A");
        AssertClose(Matrix(new double[,] { { -2, 1 }, { 1.5, -0.5 } }), Linalg.Inv(Matrix(new double[,] { { 1, 2 }, { 3, 4 } })), 1e-15, 1e-15, "inverse of [[1, 2], [3, 4]]");
        var singular = Tensor.Stack([Identity(2), Matrix(new double[,] { { 1, 2 }, { 2, 4 } })]);
        var error = Assert.Throws<LinalgException>(() => Linalg.Inv(singular));
        Assert.Contains("Inv", error.Message);
        Assert.Contains("[2, 2, 2]", error.Message);
        Assert.Contains("matrix [1]", error.Message);
        Assert.Contains("singular", error.Message);
        Assert.Throws<LinalgException>(() => Linalg.Solve(Matrix(new double[,] { { 1, 2 }, { 2, 4 } }), Identity(2)));
    }

    [Fact]
    public void Det_and_slogdet_of_known_matrices_including_singular_ones()
    {
        var a = Tensor.Stack([Matrix(new double[,] { { 1, 2 }, { 3, 4 } }), Matrix(new double[,] { { -2, 0 }, { 0, 3 } }), Matrix(new double[,] { { 1, 2 }, { 2, 4 } })]);
        AssertClose(Tensor.FromArray(new[] { -2.0, -6.0, 0.0 }), Linalg.Det(a), 0, 1e-15, "det");
        Assert.Equal(0.0, Linalg.Det(a).ToArray<double>()[2]);
        var (sign, logAbsDet) = Linalg.Slogdet(a);
        Assert.Equal([-1.0, -1.0, 0.0], sign.ToArray<double>());
        var logs = logAbsDet.ToArray<double>();
        Assert.True(Math.Abs(logs[0] - Math.Log(2)) <= 1e-15, $"log|det| {logs[0]}");
        Assert.True(Math.Abs(logs[1] - Math.Log(6)) <= 1e-15, $"log|det| {logs[1]}");
        Assert.Equal(double.NegativeInfinity, logs[2]);
        // 100 × 0.1 on the diagonal: det = 1e-100 underflows nowhere, and log|det| is exact to rounding.
        var (_, tiny) = Linalg.Slogdet(0.1 * Identity(100));
        Assert.True(Math.Abs(tiny.Item() - 100 * Math.Log(0.1)) <= 1e-12, $"log|det| of 0.1·I₁₀₀ is {tiny.Item()}");
        var upper = Matrix(new double[,] { { 2, 5, 7 }, { 0, 3, 1 }, { 0, 0, -4 } });
        AssertClose(Tensor.Scalar(-24.0, DType.Float64), Linalg.Det(upper.MT), 0, 1e-15, "det of a transposed triangular matrix");
    }

    [Fact]
    public void Cholesky_factors_reproduce_the_matrix_and_an_indefinite_matrix_throws()
    {
        var x = Random(6, 2, 4, 4);
        var a = x.MatMul(x.MT) + 0.5 * Identity(4);
        var l = Linalg.Cholesky(a);
        AssertClose(a, l.MatMul(l.MT), 1e-14, 0, "L·Lᵀ");
        AssertClose(Tensor.ZerosLike(l), l.Triu(1), 0, 0, "L's strict upper triangle");
        var u = Linalg.Cholesky(a, upper: true);
        AssertClose(a, u.MT.MatMul(u), 1e-14, 0, "Uᵀ·U");
        // Only the lower triangle is read: garbage above it changes nothing.
        AssertClose(l, Linalg.Cholesky(a + Random(7, 4, 4).Triu(1) * 100.0), 0, 0, "Cholesky ignoring the upper triangle");
        var error = Assert.Throws<LinalgException>(() => Linalg.Cholesky(Matrix(new double[,] { { 1, 2 }, { 2, 1 } })));
        Assert.Contains("Cholesky", error.Message);
        Assert.Contains("not positive-definite", error.Message);
    }

    [Theory]
    [InlineData(5, 3, QrMode.Reduced)]
    [InlineData(3, 5, QrMode.Reduced)]
    [InlineData(5, 3, QrMode.Complete)]
    [InlineData(4, 4, QrMode.Complete)]
    public void Qr_gives_orthonormal_q_and_upper_triangular_r_whose_product_is_a(int m, int n, QrMode mode)
    {
        var a = Random(8, 2, m, n);
        var (q, r) = Linalg.Qr(a, mode);
        int columns = mode == QrMode.Complete ? m : Math.Min(m, n);
        Assert.Equal(new Shape(2, m, columns), q.Shape);
        Assert.Equal(new Shape(2, columns, n), r.Shape);
        AssertOrthonormalColumns(q, "Q");
        AssertClose(Tensor.ZerosLike(r), r.Tril(-1), 0, 0, "R below its diagonal");
        AssertClose(a, q.MatMul(r), 1e-14, 0, "Q·R");
        AssertClose(r.Narrow(-2, 0, Math.Min(m, n)), Linalg.Qr(a, QrMode.R).R, 0, 0, "mode R: the reduced R");
    }

    [Fact]
    public void Qr_follows_lapacks_sign_convention()
    {
        // β = −sign(α)·‖x‖, as LAPACK and so PyTorch: [3, 4]ᵀ = [−0.6, −0.8]ᵀ·[−5].
        var (q, r) = Linalg.Qr(Matrix(new double[,] { { 3 }, { 4 } }));
        AssertClose(Matrix(new double[,] { { -0.6 }, { -0.8 } }), q, 1e-16, 1e-15, "Q");
        AssertClose(Matrix(new double[,] { { -5 } }), r, 0, 1e-15, "R");
    }

    [Theory]
    [InlineData(5, 3, false)]
    [InlineData(3, 5, false)]
    [InlineData(5, 3, true)]
    [InlineData(3, 5, true)]
    [InlineData(4, 4, true)]
    public void Svd_reconstructs_a_with_descending_non_negative_singular_values(int m, int n, bool fullMatrices)
    {
        var a = Random(9, 3, m, n);
        var (u, s, vh) = Linalg.Svd(a, fullMatrices);
        int k = Math.Min(m, n);
        Assert.Equal(new Shape(3, m, fullMatrices ? m : k), u.Shape);
        Assert.Equal(new Shape(3, k), s.Shape);
        Assert.Equal(new Shape(3, fullMatrices ? n : k, n), vh.Shape);
        AssertOrthonormalColumns(u, "U");
        AssertOrthonormalColumns(vh.MT, "V");
        var values = s.ToArray<double>();
        for (int i = 0; i < values.Length; i++)
        {
            Assert.True(values[i] >= 0, $"singular value {values[i]} is negative");
            if (i % k != 0) Assert.True(values[i] <= values[i - 1], $"singular values not descending: {values[i - 1]}, {values[i]}");
        }
        var reconstructed = (u.Narrow(-1, 0, k) * s.Unsqueeze(-2)).MatMul(vh.Narrow(-2, 0, k));
        AssertClose(a, reconstructed, 1e-14, 0, "U·diag(S)·Vh");
        AssertClose(s, Linalg.Svdvals(a), 0, 0, "Svdvals");
    }

    [Fact]
    public void Svd_of_a_rank_deficient_matrix_still_has_orthonormal_singular_vectors()
    {
        var a = Matrix(new double[,] { { 3, 0, 0 }, { 0, 0, 0 }, { 0, 0, -2 }, { 0, 0, 0 } });
        var (u, s, vh) = Linalg.Svd(a);
        AssertClose(Tensor.FromArray(new[] { 3.0, 2.0, 0.0 }), s, 1e-15, 0, "singular values");
        AssertOrthonormalColumns(u, "U of a rank-2 matrix");
        AssertOrthonormalColumns(vh.MT, "V of a rank-2 matrix");
        AssertClose(a, (u.Narrow(-1, 0, 3) * s.Unsqueeze(-2)).MatMul(vh), 1e-15, 0, "U·diag(S)·Vh");
    }

    [Fact]
    public void Eigh_gives_ascending_eigenvalues_and_orthonormal_eigenvectors_reading_one_triangle()
    {
        var w = Linalg.Eigvalsh(Matrix(new double[,] { { 2, 1 }, { 1, 2 } }));
        AssertClose(Tensor.FromArray(new[] { 1.0, 3.0 }), w, 1e-15, 0, "eigenvalues of [[2, 1], [1, 2]]");
        var x = Random(10, 2, 5, 5);
        var a = x + x.MT;
        var (values, vectors) = Linalg.Eigh(a);
        AssertOrthonormalColumns(vectors, "eigenvectors");
        AssertClose(a.MatMul(vectors), vectors * values.Unsqueeze(-2), 1e-14, 0, "A·V = V·diag(w)");
        var sorted = values.ToArray<double>();
        for (int i = 1; i < sorted.Length; i++)
            if (i % 5 != 0) Assert.True(sorted[i - 1] <= sorted[i], $"eigenvalues not ascending: {sorted[i - 1]}, {sorted[i]}");
        var garbageAbove = a.Tril() + 50.0 * Random(11, 5, 5).Triu(1);
        AssertClose(values, Linalg.Eigvalsh(garbageAbove), 0, 0, "UPLO L ignores the upper triangle");
        AssertClose(values, Linalg.Eigvalsh(garbageAbove.MT, "U"), 0, 0, "UPLO U reads the upper triangle");
    }

    [Fact]
    public void Lstsq_minimises_the_residual_for_tall_a_and_the_norm_for_wide_a()
    {
        var tall = Random(12, 6, 3);
        var b = Random(13, 6, 2);
        var normalEquations = Linalg.Solve(tall.MT.MatMul(tall), tall.MT.MatMul(b));
        AssertClose(normalEquations, Linalg.Lstsq(tall, b), 1e-13, 1e-12, "tall least squares");
        var wide = Random(14, 2, 5);
        var rhs = Random(15, 2);
        var x = Linalg.Lstsq(wide, rhs);
        AssertClose(rhs, wide.MatMul(x), 1e-14, 0, "A·x = b for wide A");
        var minimumNorm = wide.MT.MatMul(Linalg.Solve(wide.MatMul(wide.MT), rhs));
        AssertClose(minimumNorm, x, 1e-13, 1e-12, "minimum-norm solution");
    }

    [Fact]
    public void MatrixNorm_of_a_known_matrix_for_every_order()
    {
        var a = Matrix(new double[,] { { 1, -2 }, { 3, 4 } });
        var s = Linalg.Svdvals(a).ToArray<double>();
        var cases = new (Tensor Norm, double Expected)[]
        {
            (Linalg.MatrixNorm(a), Math.Sqrt(30)),
            (Linalg.MatrixNorm(a, "nuc"), s[0] + s[1]),
            (Linalg.MatrixNorm(a, 1), 6),
            (Linalg.MatrixNorm(a, -1), 4),
            (Linalg.MatrixNorm(a, double.PositiveInfinity), 7),
            (Linalg.MatrixNorm(a, double.NegativeInfinity), 3),
            (Linalg.MatrixNorm(a, 2), s[0]),
            (Linalg.MatrixNorm(a, -2), s[1]),
        };
        foreach (var (norm, expected) in cases)
            Assert.True(Math.Abs(norm.Item() - expected) <= 1e-15 * expected, $"norm {norm.Item()}, expected {expected}");
        // ‖A‖₂·‖A‖₋₂ = |det A| for 2×2: an independent check of the singular values.
        Assert.True(Math.Abs(s[0] * s[1] - 10) <= 1e-14, $"σ₁σ₂ = {s[0] * s[1]}");
        Assert.Equal(new Shape(1, 1), Linalg.MatrixNorm(a, keepDim: true).Shape);
        Assert.Throws<ArgumentException>(() => Linalg.MatrixNorm(a, 3));
    }

    [Fact]
    public void Empty_batches_give_empty_results_of_the_right_shapes()
    {
        var a = Tensor.Zeros(new Shape(0, 3, 3), DType.Float64);
        Assert.Equal(new Shape(0, 3, 2), Linalg.Solve(a, Tensor.Zeros(new Shape(0, 3, 2), DType.Float64)).Shape);
        Assert.Equal(new Shape(0, 3, 3), Linalg.Inv(a).Shape);
        Assert.Equal(new Shape(0), Linalg.Det(a).Shape);
        Assert.Equal(new Shape(0), Linalg.Slogdet(a).LogAbsDet.Shape);
        Assert.Equal(new Shape(0, 3, 3), Linalg.Cholesky(a).Shape);
        Assert.Equal(new Shape(0, 3, 3), Linalg.Qr(a).Q.Shape);
        Assert.Equal(new Shape(0, 3), Linalg.Svd(a).S.Shape);
        Assert.Equal(new Shape(0, 3), Linalg.Eigh(a).Eigenvalues.Shape);
        Assert.Equal(new Shape(0), Linalg.MatrixNorm(a, "nuc").Shape);
    }

    [Fact]
    public void Float32_results_match_float64_ones_to_float32_precision()
    {
        var x = Random(16, 2, 4, 4);
        var spd = x.MatMul(x.MT) + Identity(4);
        var general = x + 3.0 * Identity(4);
        var results = new (string Name, Func<Tensor, Tensor> Function, Tensor Input)[]
        {
            ("Solve", a => Linalg.Solve(a, a.MT), general),
            ("Inv", Linalg.Inv, general),
            ("Det", Linalg.Det, general),
            ("Cholesky", a => Linalg.Cholesky(a), spd),
            ("Qr R", a => Linalg.Qr(a).R, general),
            ("Svdvals", Linalg.Svdvals, general),
            ("Eigvalsh", a => Linalg.Eigvalsh(a), spd),
        };
        foreach (var (name, function, input) in results)
        {
            var single = function(input.Float());
            Assert.Equal(DType.Float32, single.DType);
            AssertClose(function(input), single.Double(), 1e-5, 1e-5, name + " in float32");
        }
    }

    [Fact]
    public void Non_square_and_non_float_inputs_are_rejected_naming_the_op_and_shape()
    {
        var rectangular = Tensor.Zeros(new Shape(2, 3), DType.Float64);
        foreach (var (name, call) in new (string, Action)[]
        {
            ("Inv", () => Linalg.Inv(rectangular)),
            ("Det", () => Linalg.Det(rectangular)),
            ("Slogdet", () => Linalg.Slogdet(rectangular)),
            ("Cholesky", () => Linalg.Cholesky(rectangular)),
            ("Eigh", () => Linalg.Eigh(rectangular)),
            ("Solve", () => Linalg.Solve(rectangular, rectangular)),
        })
        {
            var error = Assert.Throws<ShapeMismatchException>(call);
            Assert.Contains(name, error.Message);
            Assert.Contains("[2, 3]", error.Message);
        }
        var solveError = Assert.Throws<ShapeMismatchException>(() => Linalg.Solve(Identity(3), Tensor.Zeros(new Shape(2, 2), DType.Float64)));
        Assert.Contains("[2, 2]", solveError.Message);
        var vectorError = Assert.Throws<ShapeMismatchException>(() => Linalg.Qr(Tensor.Zeros(new Shape(3), DType.Float64)));
        Assert.Contains("Qr", vectorError.Message);
        var intError = Assert.Throws<ArgumentException>(() => Linalg.Inv(Tensor.FromArray(new long[] { 1, 0, 0, 1 }, 2, 2)));
        Assert.Contains("int64", intError.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Gradients_differentiate_again_second_derivative_of_inverse_and_log_determinant()
    {
        // f(x) = Σ (x·I₂)⁻¹ = 2/x: f'' = 4/x³.  g(x) = log|det(x·I₂)| = 2 log|x|: g'' = −2/x².
        var x = Tensor.Scalar(1.5, DType.Float64, requiresGrad: true);
        var first = Autograd.Grad([Linalg.Inv(x * Identity(2)).Sum()], [x], createGraph: true)[0]!;
        var second = Autograd.Grad([first], [x])[0]!;
        Assert.True(Math.Abs(second.Item() - 4 / Math.Pow(1.5, 3)) <= 1e-12, $"(Σ inv)'' = {second.Item()}");
        var logFirst = Autograd.Grad([Linalg.Slogdet(x * Identity(2)).LogAbsDet], [x], createGraph: true)[0]!;
        var logSecond = Autograd.Grad([logFirst], [x])[0]!;
        Assert.True(Math.Abs(logSecond.Item() + 2 / (1.5 * 1.5)) <= 1e-12, $"(log|det|)'' = {logSecond.Item()}");
    }

    [Fact]
    public void Qr_complete_gradient_of_a_tall_matrix_is_refused_with_a_clear_error()
    {
        var a = Random(17, 4, 2);
        a.RequiresGrad = true;
        var error = Assert.Throws<NotSupportedException>(() => Linalg.Qr(a, QrMode.Complete).Q.Sum().Backward());
        Assert.Contains("Complete", error.Message);
    }

    [Fact]
    public void Nan_inputs_give_nan_decompositions_instead_of_hanging()
    {
        var a = Tensor.FromArray(new[,] { { 1.0, double.NaN }, { double.NaN, 2.0 } });
        Assert.All(Linalg.Svdvals(a).ToArray<double>(), v => Assert.True(double.IsNaN(v), $"singular value {v}"));
        Assert.All(Linalg.Eigvalsh(a).ToArray<double>(), v => Assert.True(double.IsNaN(v), $"eigenvalue {v}"));
        Assert.True(double.IsNaN(Linalg.Det(a).Item()), "det of a NaN matrix");
    }
}
