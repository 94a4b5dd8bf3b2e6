namespace Backprop.Tests.Tensors;

/// <summary>
/// The element-wise math ops of Tensor.Math.cs (and Sign/Floor/Ceil/Round) against their float64 definitions, on
/// contiguous, transposed and strided inputs long enough to fill every vector width, with empty tensors, broadcasting,
/// NaN and ±Inf, int64 where PyTorch allows it, and the errors for what it refuses.
/// </summary>
public class MathOpsTests
{
    private const double Inf = double.PositiveInfinity;
    private const double NaN = double.NaN;

    /// <summary>An op, its float64 definition, and the interval its random inputs are drawn from.</summary>
    private sealed record UnaryCase(Func<Tensor, Tensor> Op, Func<double, double> Reference, double Low, double High)
    {
        public double Float64Tolerance { get; init; } = 1e-14;
    }

    private static readonly Dictionary<string, UnaryCase> Unary = new()
    {
        ["Tan"] = new(x => x.Tan(), Math.Tan, -1.5, 1.5),
        ["Atan"] = new(x => x.Atan(), Math.Atan, -30, 30),
        ["Asin"] = new(x => x.Asin(), Math.Asin, -1, 1),
        ["Acos"] = new(x => x.Acos(), Math.Acos, -1, 1),
        ["Sinh"] = new(x => x.Sinh(), Math.Sinh, -20, 20),
        ["Cosh"] = new(x => x.Cosh(), Math.Cosh, -20, 20),
        ["Expm1"] = new(x => x.Expm1(), Expm1Reference, -0.6, 3),
        ["Log1p"] = new(x => x.Log1p(), Log1pReference, -0.6, 3),
        // The bisection reference resolves erf to an ulp of 1, so x only to ~1e−13 where erf is flat (|y| near 1).
        ["Erfinv"] = new(x => x.Erfinv(), ErfinvByBisection, -0.999, 0.999) { Float64Tolerance = 1e-12 },
        ["Trunc"] = new(x => x.Trunc(), Math.Truncate, -5, 5),
        ["Floor"] = new(x => x.Floor(), Math.Floor, -5, 5),
        ["Ceil"] = new(x => x.Ceil(), Math.Ceiling, -5, 5),
        ["Round"] = new(x => x.Round(), v => Math.Round(v, MidpointRounding.ToEven), -5, 5),
        ["Sign"] = new(x => x.Sign(), v => double.IsNaN(v) ? NaN : Math.Sign(v), -5, 5),
    };

    public static TheoryData<string> UnaryNames() => new(Unary.Keys);

    private static readonly double[] Specials = [0, -0.0, Inf, -Inf, NaN, 1, -1, 0.5, -0.5, 2.5, 1e-300];

    /// <summary>Random values in [low, high] with the special values mixed in, shaped [41, 3]: 123 elements.</summary>
    private static double[] Draw(ulong seed, double low, double high)
    {
        var g = new Generator(seed);
        var values = new double[123];
        for (int i = 0; i < values.Length; i++) values[i] = i < Specials.Length ? Specials[i] : low + (high - low) * g.NextDouble();
        g.Shuffle<double>(values);
        return values;
    }

    private static void AssertNear(double expected, double actual, double tolerance, string context)
    {
        if (double.IsNaN(expected) || double.IsInfinity(expected))
        {
            Assert.True(expected.Equals(actual), $"{context}: expected {expected}, got {actual}");
            return;
        }
        Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Max(1e-300, Math.Abs(expected)),
            $"{context}: expected {expected:R}, got {actual:R} (relative bound {tolerance})");
    }

    private static double Tolerance(DType dtype) => dtype == DType.Float32 ? 1e-6 : 1e-14;

    // Their Maclaurin series where exp(x) − 1 and log(1 + x) would cancel (|x| < ½: 60 terms reach float64).
    private static double Expm1Reference(double x)
    {
        if (!(Math.Abs(x) < 0.5)) return Math.Exp(x) - 1;
        double sum = 0, term = 1;
        for (int n = 1; n < 60; n++) sum += term *= x / n;
        return sum;
    }

    private static double Log1pReference(double x)
    {
        if (!(Math.Abs(x) < 0.5)) return Math.Log(1 + x);
        double sum = 0, power = 1;
        for (int n = 1; n < 60; n++) sum += (n % 2 == 1 ? 1 : -1) * (power *= x) / n;
        return sum;
    }

    /// <summary>A seed from the name that is the same in every process (string.GetHashCode is randomised).</summary>
    private static ulong Seed(string name) => name.Aggregate(17UL, (h, c) => h * 31 + c);

    /// <summary>The same values as a contiguous, a transposed and a strided tensor, all of logical shape [41, 3].</summary>
    private static IEnumerable<(string Layout, Tensor Input)> Layouts(double[] values, DType dtype)
    {
        var contiguous = Tensor.FromArray(values, 41, 3).To(dtype);
        yield return ("contiguous", contiguous);
        var transposed = Tensor.FromArray(Transpose(values, 41, 3), 3, 41).To(dtype).T;
        yield return ("transposed", transposed);
        var padded = Tensor.FromArray(values.SelectMany(v => new[] { v, 777.0 }).ToArray(), 41, 6).To(dtype);
        yield return ("strided", padded.Slice(1, 0, 6, step: 2));
    }

    private static double[] Transpose(double[] values, int rows, int cols)
    {
        var result = new double[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) result[c * rows + r] = values[r * cols + c];
        return result;
    }

    [Theory]
    [MemberData(nameof(UnaryNames))]
    public void Unary_op_matches_its_float64_definition_on_every_layout(string name)
    {
        var op = Unary[name];
        var values = Draw(Seed(name), op.Low, op.High);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var (layout, input) in Layouts(values, dtype))
            {
                Assert.True(input.Sizes.SequenceEqual([41, 3]), "layout shape");
                var actual = op.Op(input);
                Assert.Equal(dtype, actual.DType);
                Assert.True(actual.Sizes.SequenceEqual([41, 3]), $"{name}: output shape {Shape.Format(actual.Sizes)}");
                var got = actual.ToArray<double>();
                for (int i = 0; i < values.Length; i++)
                {
                    double x = dtype == DType.Float32 ? (float)values[i] : values[i];
                    double tolerance = dtype == DType.Float32 ? Tolerance(dtype) : op.Float64Tolerance;
                    AssertNear(op.Reference(x), got[i], tolerance, $"{name} {dtype.DisplayName()} {layout} x={x:R}");
                }
            }
        Assert.Equal(new Shape(2, 0), op.Op(Tensor.Zeros([2, 0])).Shape);
    }

    // erfinv by bisection on erf (Math has none; this erf is the library's, checked against PyTorch in EdgeValueTests
    // and the kernel tests). The constants test below pins erfinv independently.
    private static double ErfinvByBisection(double y)
    {
        if (double.IsNaN(y) || Math.Abs(y) > 1) return NaN;
        if (Math.Abs(y) == 1) return y * Inf;
        double lo = -6, hi = 6;
        while (true)
        {
            double mid = 0.5 * (lo + hi);
            if (mid <= lo || mid >= hi) return y == 0 ? y : mid;
            if (Backprop.Backends.Cpu.SpecialFunctions.Erf(mid) < y) lo = mid; else hi = mid;
        }
    }

    public static TheoryData<double, double> ErfinvValues() => new()
    {
        // By bisection on Python's math.erf / math.erfc (C's libm), independently of this library.
        { 0.5, 0.47693627620446987 },
        { 0.9, 1.163087153676674 },
        { 0.999, 2.3267537655135246 },
        { -0.3, -0.2724627147267543 },
        { 1e-5, 8.862269254759592e-06 },
        { 0.75, 0.8134198475976184 },
        { 1 - 1.0 / (1 << 30), 4.328028275800946 },
        { 0.999999999999999, 5.675915739744713 },
        { 1 - Math.Pow(2, -53), 5.8635847487551676 },
        { 1e-300, 8.862269254527580e-301 },
    };

    [Theory]
    [MemberData(nameof(ErfinvValues))]
    public void Erfinv_matches_reference_values_to_float64_even_next_to_one(double y, double expected)
    {
        var actual = Tensor.FromArray(new[] { y }).Erfinv().ToArray<double>()[0];
        AssertNear(expected, actual, 4e-15, $"erfinv({y:R})");
        var single = Tensor.FromArray(new[] { (float)y }).Erfinv().ToArray<float>()[0];
        if ((float)y != 1f) AssertNear((float)ErfinvByBisection((float)y), single, 1e-6, $"float32 erfinv({y:R})");
    }

    [Fact]
    public void Expm1_and_log1p_keep_the_digits_of_tiny_inputs()
    {
        double[] tiny = [1e-10, -1e-10, 1e-300, -3e-8, 5e-17];
        var expm1 = Tensor.FromArray(tiny).Expm1().ToArray<double>();
        var log1p = Tensor.FromArray(tiny).Log1p().ToArray<double>();
        for (int i = 0; i < tiny.Length; i++)
        {
            double x = tiny[i];
            AssertNear(x + x * x / 2 + x * x * x / 6, expm1[i], 4e-16, $"expm1({x:R})");
            AssertNear(x - x * x / 2 + x * x * x / 3, log1p[i], 4e-16, $"log1p({x:R})");
        }
        var single = Tensor.FromArray(tiny.Select(v => (float)v).ToArray());
        Assert.Equal((float)1e-10, single.Expm1().ToArray<float>()[0]);
        Assert.Equal((float)-1e-10, single.Log1p().ToArray<float>()[1]);
    }

    /// <summary>A binary op with its float64 definition.</summary>
    private sealed record BinaryCase(Func<Tensor, Tensor, Tensor> Op, Func<double, double, double> Reference);

    private static readonly Dictionary<string, BinaryCase> Binary = new()
    {
        ["Atan2"] = new(Tensor.Atan2, Math.Atan2),
        ["Hypot"] = new(Tensor.Hypot, HypotReference),
        // Python's a % b: a − ⌊a/b⌋·b, the divisor's sign; a finite a mod ±∞ is a, or ±∞ where the signs differ.
        ["Remainder"] = new(Tensor.Remainder, (a, b) => double.IsInfinity(b) && double.IsFinite(a)
            ? (a == 0 || a < 0 == b < 0 ? a : b)
            : a - b * Math.Floor(a / b)),
        ["Fmod"] = new(Tensor.Fmod, (a, b) => double.IsInfinity(b) && double.IsFinite(a) ? a : a - b * Math.Truncate(a / b)),
    };

    public static TheoryData<string> BinaryNames() => new(Binary.Keys);

    // √(a² + b²) scaled by the larger leg, so tiny and huge legs neither underflow nor overflow; +Inf beats NaN (IEEE).
    private static double HypotReference(double a, double b)
    {
        if (double.IsInfinity(a) || double.IsInfinity(b)) return Inf;
        double m = Math.Max(Math.Abs(a), Math.Abs(b));
        if (double.IsNaN(a) || double.IsNaN(b)) return NaN;
        if (m == 0) return 0;
        return m * Math.Sqrt(a / m * (a / m) + b / m * (b / m));
    }

    private static void AssertBinary(string name, Tensor a, Tensor b, Func<int, (double A, double B)> operands, DType dtype, string layout)
    {
        var op = Binary[name];
        var actual = op.Op(a, b);
        Assert.Equal(dtype, actual.DType);
        var got = actual.ToArray<double>();
        for (int i = 0; i < got.Length; i++)
        {
            var (x, y) = operands(i);
            double expected = op.Reference(x, y);
            string context = $"{name} {dtype.DisplayName()} {layout} a={x:R} b={y:R}";
            // fmod is exact and remainder's fmod + b rounds once; their float64 definitions a − q·b are off by about an ulp
            // of a, so the bound is relative to the operands, not to a result that may be tiny.
            if (name is "Remainder" or "Fmod" && double.IsFinite(expected))
                Assert.True(Math.Abs(got[i] - expected) <= Tolerance(dtype) * Math.Max(Math.Abs(x), Math.Abs(y)), $"{context}: expected {expected:R}, got {got[i]:R}");
            else AssertNear(expected, got[i], Tolerance(dtype), context);
        }
    }

    [Theory]
    [MemberData(nameof(BinaryNames))]
    public void Binary_op_matches_its_float64_definition_on_every_layout_and_broadcast(string name)
    {
        var seed = Seed(name);
        var aValues = Draw(seed, -7, 7);
        var bValues = Draw(seed + 1, -3, 3);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            double Round(double v) => dtype == DType.Float32 ? (float)v : v;
            var aLayouts = Layouts(aValues, dtype).ToList();
            var bLayouts = Layouts(bValues, dtype).ToList();
            for (int k = 0; k < aLayouts.Count; k++)
            {
                // Pair each layout of a with a different layout of b.
                var (layoutA, a) = aLayouts[k];
                var (layoutB, b) = bLayouts[(k + 1) % bLayouts.Count];
                AssertBinary(name, a, b, i => (Round(aValues[i]), Round(bValues[i])), dtype, $"{layoutA} with {layoutB}");
            }
            // Broadcasting: a column [41, 1] against a row [1, 3], and a tensor against a scalar on either side.
            var column = Tensor.FromArray(aValues[..41], 41, 1).To(dtype);
            var row = Tensor.FromArray(bValues[..3], 1, 3).To(dtype);
            AssertBinary(name, column, row, i => (Round(aValues[i / 3]), Round(bValues[i % 3])), dtype, "column with row");
            var scalar = Tensor.Scalar(0.7, dtype);
            AssertBinary(name, aLayouts[1].Input, scalar, i => (Round(aValues[i]), Round(0.7)), dtype, "transposed with scalar");
            AssertBinary(name, scalar, bLayouts[2].Input, i => (Round(0.7), Round(bValues[i])), dtype, "scalar with strided");
            // Empty tensors broadcast to empty results.
            Assert.Equal(new Shape(0, 3), Binary[name].Op(Tensor.Zeros([0, 3], dtype), row).Shape);
        }
    }

    [Fact]
    public void Remainder_and_fmod_follow_python_and_c_signs()
    {
        var a = Tensor.FromArray(new[] { 5.0, -5, 5, -5, 7.5, -0.0, 1 });
        var b = Tensor.FromArray(new[] { 3.0, 3, -3, -3, 2, 3, 0.1 });
        // 1 % 0.1 is 0.09999999999999995 in Python (0.1 is a little over a tenth), not 0 or 0.1.
        Assert.Equal([2.0, 1, -1, -2, 1.5, 0, 0.09999999999999995], Tensor.Remainder(a, b).ToArray<double>());
        Assert.Equal([2.0, -2, 2, -2, 1.5, 0, 0.09999999999999995], Tensor.Fmod(a, b).ToArray<double>());
        Assert.Equal([2.0, 1, 2, 1, 1.5, 0, 1], a.Remainder(3).ToArray<double>());
        Assert.Equal([-1.0, -2, -1, -2, -1.5, 0, -2], a.Remainder(-3).ToArray<double>());
        Assert.Equal(Tensor.Remainder(a, b).ToArray<double>(), (a % b).ToArray<double>());
        Assert.Equal([2.0, 1, 2, 1, 1.5, 0, 1], (a % 3).ToArray<double>());
        Assert.Equal([1.0, 1, -2, -2, 1, 1, 0.09999999999999995], (1.0 % b).ToArray<double>());
    }

    [Fact]
    public void Remainder_gradient_uses_python_floor_division_of_the_operands()
    {
        // ∂(a mod b)/∂b = −(a // b), and 1 // 0.1 is 9 (not ⌊1/0.1⌋ = 10), consistent with 1 % 0.1 ≈ 0.1.
        var a = Tensor.FromArray(new[] { 1.0, -5, 5, 7.5 }).Detach();
        var b = Tensor.FromArray(new[] { 0.1, 3, -3, 2 }).Detach();
        a.RequiresGrad = b.RequiresGrad = true;
        Tensor.Remainder(a, b).Sum().Backward();
        Assert.Equal([1.0, 1, 1, 1], a.Grad!.ToArray<double>());
        Assert.Equal([-9.0, 2, 2, -3], b.Grad!.ToArray<double>());
        var c = Tensor.FromArray(new[] { -5.0, 5, 1 }).Detach();
        c.RequiresGrad = true;
        Tensor.Fmod(Tensor.FromArray(new[] { 7.0, 7, -7 }), c).Sum().Backward();
        Assert.Equal([1.0, -1, 7], c.Grad!.ToArray<double>());
    }

    [Fact]
    public void Int64_remainder_fmod_and_rounding_follow_pytorch()
    {
        var a = Tensor.FromArray(new long[] { -7, 7, -7, 7, 0, long.MinValue, 6 });
        var b = Tensor.FromArray(new long[] { 3, -3, -3, 3, 5, -1, 3 });
        var remainder = Tensor.Remainder(a, b);
        Assert.Equal(DType.Int64, remainder.DType);
        Assert.Equal([2L, -2, -1, 1, 0, 0, 0], remainder.ToArray<long>());
        Assert.Equal([-1L, 1, -1, 1, 0, 0, 0], Tensor.Fmod(a, b).ToArray<long>());
        Assert.Equal([2L, 1, 2, 1, 0, 1, 0], a.Remainder(3).ToArray<long>());
        var zero = Assert.Throws<DivideByZeroException>(() => a.Remainder(0));
        Assert.Contains("Remainder", zero.Message);
        Assert.Throws<DivideByZeroException>(() => Tensor.Fmod(a, Tensor.ZerosLike(a)));

        foreach (var rounded in new[] { a.Floor(), a.Ceil(), a.Round(), a.Trunc() })
        {
            Assert.Equal(DType.Int64, rounded.DType);
            Assert.Equal(a.ToArray<long>(), rounded.ToArray<long>());
        }
        Assert.Equal([-1L, 1, -1, 1, 0, -1, 1], a.Sign().ToArray<long>());
        var refused = Assert.Throws<NotSupportedException>(() => a.Round(decimals: 1));
        Assert.Contains("int64", refused.Message);
    }

    [Fact]
    public void Round_with_decimals_is_torch_round_step_for_step()
    {
        var g = new Generator(3);
        var values = Enumerable.Range(0, 101).Select(_ => -500 + 1000 * g.NextDouble()).Concat([2.675, 0.125, -0.375, 1250, 1350, Inf, NaN]).ToArray();
        foreach (var decimals in new[] { 3, 2, 1, -1, -2 })
        {
            // round(x·p)/p or round(x/p)·p, each step an IEEE operation in the dtype: the same bits at any vector width.
            double p = Math.Pow(10, Math.Abs(decimals));
            var doubles = Tensor.FromArray(values).Round(decimals).ToArray<double>();
            var singles = Tensor.FromArray(values.Select(v => (float)v).ToArray()).Round(decimals).ToArray<float>();
            for (int i = 0; i < values.Length; i++)
            {
                double expected = decimals > 0 ? Math.Round(values[i] * p, MidpointRounding.ToEven) / p : Math.Round(values[i] / p, MidpointRounding.ToEven) * p;
                float x = (float)values[i], q = (float)p;
                float expectedSingle = decimals > 0 ? MathF.Round(x * q, MidpointRounding.ToEven) / q : MathF.Round(x / q, MidpointRounding.ToEven) * q;
                Assert.True(expected.Equals(doubles[i]), $"round({values[i]:R}, {decimals}): expected {expected:R}, got {doubles[i]:R}");
                Assert.True(expectedSingle.Equals(singles[i]), $"float32 round({x:R}, {decimals}): expected {expectedSingle:R}, got {singles[i]:R}");
            }
        }
        // 2.675 is 2.674999… in float64, but 2.675·100 rounds to 267.5, which rounds to even: 2.68, as torch.round and
        // numpy.round give (Python's decimal-exact round(2.675, 2) is 2.67).
        Assert.Equal(2.68, Tensor.FromArray(new[] { 2.675 }).Round(2).ToArray<double>()[0]);
        Assert.Equal([1200.0, 1400], Tensor.FromArray(new[] { 1250.0, 1350 }).Round(-2).ToArray<double>());
    }

    [Fact]
    public void Piecewise_constant_ops_pass_back_zeros_not_nothing()
    {
        foreach (var (name, op) in new (string, Func<Tensor, Tensor>)[]
        {
            ("Sign", x => x.Sign()), ("Floor", x => x.Floor()), ("Ceil", x => x.Ceil()), ("Round", x => x.Round()),
            ("Round(decimals: 2)", x => x.Round(2)), ("Trunc", x => x.Trunc()),
        })
        {
            var x = Tensor.FromArray(new[] { -1.5, 0, 0.5, 2.25 }).Detach();
            x.RequiresGrad = true;
            var y = op(x);
            Assert.True(y.RequiresGrad, $"{name}: the output records a node, as in PyTorch");
            y.Sum().Backward();
            Assert.NotNull(x.Grad);
            Assert.Equal([0.0, 0, 0, 0], x.Grad!.ToArray<double>());
        }
    }

    [Fact]
    public void Lerp_matches_its_definition_broadcasts_and_is_exact_at_both_ends()
    {
        var g = new Generator(11);
        var start = Enumerable.Range(0, 41).Select(_ => -10 + 20 * g.NextDouble()).ToArray();
        var end = Enumerable.Range(0, 3).Select(_ => -10 + 20 * g.NextDouble()).ToArray();
        var weight = new[] { -0.5, 0, 0.25, 0.5, 0.75, 1, 1.5 };
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            double Round(double v) => dtype == DType.Float32 ? (float)v : v;
            var y = Tensor.Lerp(Tensor.FromArray(start, 41, 1, 1).To(dtype), Tensor.FromArray(end, 1, 3, 1).To(dtype),
                Tensor.FromArray(weight, 1, 1, 7).To(dtype));
            Assert.Equal(new Shape(41, 3, 7), y.Shape);
            var got = y.ToArray<double>();
            for (int i = 0; i < 41; i++)
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 7; k++)
                    {
                        double s = Round(start[i]), e = Round(end[j]), w = weight[k], actual = got[(i * 3 + j) * 7 + k];
                        // Evaluated from the nearer end, so weight 0 and 1 return start and end themselves, bit for bit.
                        if (w == 0) Assert.Equal(s, actual);
                        else if (w == 1) Assert.Equal(e, actual);
                        else Assert.True(Math.Abs(actual - (s + w * (e - s))) <= Tolerance(dtype) * 4 * (Math.Abs(s) + Math.Abs(e)),
                            $"lerp({s}, {e}, {w}) {dtype.DisplayName()}: got {actual}");
                    }
            var transposed = Tensor.FromArray(start[..40], 8, 5).To(dtype).T;
            var scalarWeight = transposed.Lerp(Tensor.Zeros([5, 8], dtype), 0.25).ToArray<double>();
            for (int r = 0; r < 5; r++)
                for (int c = 0; c < 8; c++)
                    Assert.True(Math.Abs(scalarWeight[r * 8 + c] - 0.75 * Round(start[c * 5 + r])) <= 1e-6 * Math.Abs(start[c * 5 + r]),
                        $"scalar-weight lerp at [{r}, {c}]");
        }
        Assert.Equal(new Shape(0, 3), Tensor.Zeros([0, 1]).Lerp(Tensor.Zeros([3]), 0.5).Shape);
    }

    [Fact]
    public void Lerp_gradients_sum_over_broadcast_dims()
    {
        var start = Tensor.FromArray(new[] { 1.0, 2.0 }, 2, 1).Detach();
        var end = Tensor.FromArray(new[] { 10.0, 20.0, 30.0 }).Detach();
        var weight = Tensor.FromArray(new[] { 0.25 }).Detach();
        start.RequiresGrad = end.RequiresGrad = weight.RequiresGrad = true;
        Tensor.Lerp(start, end, weight).Sum().Backward();
        Assert.Equal([2.25, 2.25], start.Grad!.ToArray<double>()); // 3 columns of 1 − w
        Assert.Equal([0.5, 0.5, 0.5], end.Grad!.ToArray<double>()); // 2 rows of w
        Assert.Equal([(10 + 20 + 30) * 2 - 3 * (1 + 2.0)], weight.Grad!.ToArray<double>()); // Σ (end − start)
    }

    [Fact]
    public void Bad_inputs_are_refused_with_the_op_and_the_shapes()
    {
        var ints = Tensor.FromArray(new long[] { 1, 2 });
        var atan2 = Assert.Throws<NotSupportedException>(() => Tensor.Atan2(ints, ints));
        Assert.Contains("Atan2", atan2.Message);
        Assert.Contains("[2]", atan2.Message);
        Assert.Throws<NotSupportedException>(() => Tensor.Hypot(ints, ints));
        var mixed = Assert.Throws<ArgumentException>(() => Tensor.Lerp(Tensor.Zeros([2]), Tensor.Zeros([2], DType.Float64), Tensor.Zeros([2])));
        Assert.Contains("Lerp", mixed.Message);
        Assert.Contains("float64", mixed.Message);
        var shapes = Assert.ThrowsAny<ArgumentException>(() => Tensor.Lerp(Tensor.Zeros([2]), Tensor.Zeros([3]), Tensor.Zeros([2])));
        Assert.Contains("Lerp", shapes.Message);
        Assert.ThrowsAny<ArgumentException>(() => Tensor.Remainder(Tensor.Zeros([2, 3]), Tensor.Zeros([4])));
    }
}
