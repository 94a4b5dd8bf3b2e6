using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>
/// The CPU element-wise kernels against scalar references computed in double: every op, float32 and float64, lengths
/// around every vector width (so each tail path runs), special values (NaN, ±∞, ±0, subnormals, large magnitudes),
/// and each layout a kernel has a path for: contiguous, strided, a broadcast scalar on either side, a broadcast row,
/// and in place.
/// </summary>
public class ElementwiseKernelTests
{
    private static readonly CpuBackend Cpu = CpuBackend.Instance;
    private static readonly int[] Lengths = [0, 1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100];
    private static readonly double[] Specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 1e-40, -1e-40, 50, -50, 0.5, -0.5, 1, -1];

    public static TheoryData<UnaryOp> UnaryOps()
    {
        var data = new TheoryData<UnaryOp>();
        foreach (var op in Enum.GetValues<UnaryOp>()) data.Add(op);
        return data;
    }

    public static TheoryData<BinaryOp> BinaryOps()
    {
        var data = new TheoryData<BinaryOp>();
        foreach (var op in Enum.GetValues<BinaryOp>()) data.Add(op);
        return data;
    }

    private const double Arg0 = 0.3, Arg1 = 0.8; // LeakyRelu slope, Elu alpha, Clamp [−0.3·…]: see UnaryReference

    private static double UnaryReference(UnaryOp op, double x) => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Abs => Math.Abs(x),
        UnaryOp.Sign => double.IsNaN(x) ? double.NaN : Math.Sign(x),
        UnaryOp.Reciprocal => 1 / x,
        UnaryOp.Square => x * x,
        UnaryOp.Sin => Math.Sin(x),
        UnaryOp.Cos => Math.Cos(x),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Sigmoid => 1 / (1 + Math.Exp(-x)),
        UnaryOp.Relu => double.IsNaN(x) ? x : Math.Max(x, 0),
        UnaryOp.Softplus => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x))),
        // x·Φ(x) → 0 as x → −∞; the literal product there is −∞·0.
        UnaryOp.Gelu => double.IsNegativeInfinity(x) ? 0 : 0.5 * x * (1 + ErfReference(x / Math.Sqrt(2))),
        UnaryOp.Erf => ErfReference(x),
        UnaryOp.Floor => Math.Floor(x),
        UnaryOp.Ceil => Math.Ceiling(x),
        UnaryOp.Round => Math.Round(x, MidpointRounding.ToEven),
        UnaryOp.Log1p => Math.Abs(x) < 1e-4 ? x - x * x / 2 + x * x * x / 3 : Math.Log(1 + x),
        UnaryOp.Expm1 => Math.Abs(x) < 1e-5 ? x + x * x / 2 + x * x * x / 6 : Math.Exp(x) - 1,
        UnaryOp.LeakyRelu => x > 0 ? x : Arg0 * x,
        UnaryOp.Elu => x > 0 ? x : Arg0 * (Math.Exp(x) - 1),
        UnaryOp.Clamp => double.IsNaN(x) ? x : Math.Min(Math.Max(x, -Arg0), Arg1),
        UnaryOp.Step => x > 0 ? 1 : 0,
        UnaryOp.Tan => Math.Tan(x),
        UnaryOp.Atan => Math.Atan(x),
        UnaryOp.Asin => Math.Asin(x),
        UnaryOp.Acos => Math.Acos(x),
        UnaryOp.Sinh => Math.Sinh(x),
        UnaryOp.Cosh => Math.Cosh(x),
        UnaryOp.Erfinv => ErfinvReference(x),
        UnaryOp.Trunc => Math.Truncate(x),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    private static (double, double) UnaryArgs(UnaryOp op) => op == UnaryOp.Clamp ? (-Arg0, Arg1) : (Arg0, 0);

    // An independent erf for the reference (Abramowitz–Stegun 7.1.26 is too coarse): the Maclaurin series with Kahan
    // summation, accurate to double precision for the |x| ≤ 3 the tests draw (their ±50 and ±∞ give ±1).
    private static double ErfReference(double x)
    {
        if (double.IsNaN(x)) return x;
        if (Math.Abs(x) >= 6) return Math.Sign(x);
        double sum = 0, c = 0, term = x, x2 = x * x;
        for (int n = 0; n < 400; n++)
        {
            double add = term / (2 * n + 1);
            double y = add - c, t = sum + y;
            c = (t - sum) - y;
            sum = t;
            term *= -x2 / (n + 1);
            if (Math.Abs(add) < 1e-18 * Math.Abs(sum)) break;
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    // erfinv by bisection on the independent erf above: 200 halvings of [−6, 6] reach the float64 resolution.
    private static double ErfinvReference(double y)
    {
        if (double.IsNaN(y) || Math.Abs(y) > 1) return double.NaN;
        if (Math.Abs(y) == 1) return y * double.PositiveInfinity;
        double lo = -6, hi = 6;
        for (int i = 0; i < 200 && lo < hi; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (mid == lo || mid == hi) break;
            if (ErfReference(mid) < y) lo = mid; else hi = mid;
        }
        return 0.5 * (lo + hi);
    }

    private static double BinaryReference(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => Math.Pow(a, b),
        BinaryOp.Maximum => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Max(a, b),
        BinaryOp.Minimum => double.IsNaN(a) || double.IsNaN(b) ? double.NaN : Math.Min(a, b),
        BinaryOp.Eq => a == b ? 1 : 0,
        BinaryOp.Ne => a != b ? 1 : 0,
        BinaryOp.Lt => a < b ? 1 : 0,
        BinaryOp.Le => a <= b ? 1 : 0,
        BinaryOp.Gt => a > b ? 1 : 0,
        BinaryOp.Ge => a >= b ? 1 : 0,
        BinaryOp.BinaryCrossEntropy => -(b * Math.Max(Math.Log(a), -100) + (1 - b) * Math.Max(Math.Log(1 - a), -100)),
        BinaryOp.BinaryCrossEntropyGrad => (a - b) / Math.Max(a * (1 - a), 1e-12),
        // PyTorch's threshold_backward: a NaN output fails `y <= 0` and lets the gradient through.
        BinaryOp.ReluGrad => b <= 0 ? 0 : a,
        BinaryOp.SigmoidGrad => a * b * (1 - b),
        BinaryOp.TanhGrad => a * (1 - b * b),
        BinaryOp.Atan2 => Math.Atan2(a, b),
        BinaryOp.Hypot => double.IsInfinity(a) || double.IsInfinity(b) ? double.PositiveInfinity : Math.Sqrt(a * a + b * b),
        // From the definitions a − ⌊a/b⌋·b and a − trunc(a/b)·b; a finite a over an infinite b is the limit.
        BinaryOp.Remainder => double.IsInfinity(b) && double.IsFinite(a) ? (a == 0 || a < 0 == b < 0 ? a : b) : a - b * Math.Floor(a / b),
        BinaryOp.Fmod => double.IsInfinity(b) && double.IsFinite(a) ? a : a - b * Math.Truncate(a / b),
        _ => throw new ArgumentOutOfRangeException(nameof(op)),
    };

    /// <summary>Inputs a binary op is defined on: probabilities for BCE, positive bases for Pow.</summary>
    private static (double A, double B) BinaryDomain(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.BinaryCrossEntropy or BinaryOp.BinaryCrossEntropyGrad => (Math.Clamp(Math.Abs(a) / 3, 0, 1), Math.Clamp(Math.Abs(b) / 3, 0, 1)),
        BinaryOp.Pow => (Math.Abs(a) + 0.1, b),
        _ => (a, b),
    };

    private static double[] Inputs(int length, Generator g, bool withSpecials)
    {
        var values = new double[length];
        for (int i = 0; i < length; i++)
            values[i] = withSpecials && i < Specials.Length ? Specials[i] : -3 + 6 * g.NextDouble();
        // Specials first, then shuffled in, so the vector body and the tail both see them.
        g.Shuffle<double>(values);
        return values;
    }

    private static void AssertClose(double expected, double actual, DType dtype, string context)
    {
        if (double.IsNaN(expected) || double.IsNaN(actual))
        {
            Assert.True(double.IsNaN(expected) && double.IsNaN(actual), $"{context}: expected {expected}, got {actual}");
            return;
        }
        if (double.IsInfinity(expected) || double.IsInfinity(actual))
        {
            Assert.True(expected == actual, $"{context}: expected {expected}, got {actual}");
            return;
        }
        double tolerance = dtype == DType.Float32 ? 2e-5 : 1e-12;
        Assert.True(Math.Abs(expected - actual) <= tolerance * (1 + Math.Abs(expected)), $"{context}: expected {expected}, got {actual}");
    }

    /// <summary>What a float32 kernel should produce: the reference on the rounded input, rounded to float32.</summary>
    private static double Expected(Func<double, double> f, double x, DType dtype) =>
        dtype == DType.Float32 ? (float)f((float)x) : f(x);

    private static double Expected(Func<double, double, double> f, double a, double b, DType dtype) =>
        dtype == DType.Float32 ? (float)f((float)a, (float)b) : f(a, b);

    private static Tensor Strided(double[] values, DType dtype)
    {
        // Every other element of a buffer twice as long: stride 2.
        var backing = Tensor.FromArray(values.SelectMany(v => new[] { v, 12345.0 }).ToArray()).To(dtype);
        return values.Length == 0 ? backing : backing.Slice(0, 0, values.Length * 2, step: 2);
    }

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void Unary_kernel_matches_the_scalar_reference(UnaryOp op)
    {
        var g = new Generator((ulong)op + 1);
        var (arg0, arg1) = UnaryArgs(op);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var length in Lengths)
            {
                var x = Inputs(length, g, withSpecials: true);
                foreach (var layout in new[] { "contiguous", "strided", "in place" })
                {
                    var input = layout == "strided" ? Strided(x, dtype) : Tensor.FromArray(x).To(dtype);
                    var output = layout == "in place" ? input : Tensor.Zeros([length], dtype);
                    Cpu.Unary(op, input.Strided, output.Strided, arg0, arg1);
                    var actual = output.ToArray<double>();
                    for (int i = 0; i < length; i++)
                        AssertClose(Expected(v => UnaryReference(op, v), x[i], dtype), actual[i], dtype, $"{op} {dtype} n={length} {layout} x={x[i]}");
                }
            }
    }

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void Binary_kernel_matches_the_scalar_reference(BinaryOp op)
    {
        var g = new Generator((ulong)op + 100);
        // BCE's kernel refuses non-probabilities, and its gradient is only defined on them: no specials there.
        bool specials = op is not (BinaryOp.BinaryCrossEntropy or BinaryOp.BinaryCrossEntropyGrad);
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            foreach (var length in Lengths)
            {
                var pairs = Inputs(length, g, specials).Zip(Inputs(length, g, specials), (a, b) => BinaryDomain(op, a, b)).ToArray();
                var a = pairs.Select(p => p.A).ToArray();
                var b = pairs.Select(p => p.B).ToArray();
                var scalar = BinaryDomain(op, 0.7, 0.7).B;
                foreach (var layout in new[] { "contiguous", "strided", "scalar right", "scalar left", "in place" })
                {
                    Tensor left = layout switch
                    {
                        "strided" => Strided(a, dtype),
                        "scalar left" => Tensor.Scalar(BinaryDomain(op, 0.7, 0.7).A, dtype).Expand(length),
                        _ => Tensor.FromArray(a).To(dtype),
                    };
                    Tensor right = layout switch
                    {
                        "strided" => Strided(b, dtype),
                        "scalar right" => Tensor.Scalar(scalar, dtype).Expand(length),
                        _ => Tensor.FromArray(b).To(dtype),
                    };
                    var output = layout == "in place" ? left : Tensor.Zeros([length], dtype);
                    Cpu.Binary(op, left.Strided, right.Strided, output.Strided);
                    var actual = output.ToArray<double>();
                    for (int i = 0; i < length; i++)
                    {
                        double ai = layout == "scalar left" ? BinaryDomain(op, 0.7, 0.7).A : a[i];
                        double bi = layout == "scalar right" ? scalar : b[i];
                        AssertClose(Expected((p, q) => BinaryReference(op, p, q), ai, bi, dtype), actual[i], dtype,
                            $"{op} {dtype} n={length} {layout} a={ai} b={bi}");
                    }
                }
            }
    }

    [Fact]
    public void Binary_kernel_broadcasts_a_row_over_a_matrix()
    {
        var m = Tensor.FromArray(Enumerable.Range(0, 35).Select(i => (double)i).ToArray(), 5, 7);
        var row = Tensor.FromArray(Enumerable.Range(0, 7).Select(i => 10.0 * i).ToArray());
        var y = Tensor.Zeros([5, 7], DType.Float64);
        Cpu.Binary(BinaryOp.Sub, m.Strided, row.Expand(5, 7).Strided, y.Strided);
        var actual = y.ToArray<double>();
        for (int r = 0; r < 5; r++)
            for (int c = 0; c < 7; c++)
                Assert.Equal(r * 7 + c - 10.0 * c, actual[r * 7 + c]);
    }

    [Fact]
    public void Int64_kernels_match_integer_arithmetic()
    {
        long[] a = [-7, 0, 3, long.MaxValue / 4, -2, 9];
        long[] b = [2, -5, 3, 4, -2, 10];
        var x = Tensor.FromArray(a);
        var y = Tensor.FromArray(b);
        var output = Tensor.Zeros([a.Length], DType.Int64);
        foreach (var (op, f) in new (BinaryOp, Func<long, long, long>)[]
        {
            (BinaryOp.Add, (p, q) => p + q), (BinaryOp.Sub, (p, q) => p - q), (BinaryOp.Mul, (p, q) => p * q),
            (BinaryOp.Maximum, Math.Max), (BinaryOp.Minimum, Math.Min), (BinaryOp.Lt, (p, q) => p < q ? 1 : 0),
        })
        {
            Cpu.Binary(op, x.Strided, y.Strided, output.Strided);
            Assert.Equal(a.Zip(b, f).ToArray(), output.ToArray<long>());
        }
        foreach (var (op, f) in new (UnaryOp, Func<long, long>)[] { (UnaryOp.Neg, v => -v), (UnaryOp.Abs, Math.Abs), (UnaryOp.Sign, v => Math.Sign(v)) })
        {
            Cpu.Unary(op, x.Strided, output.Strided);
            Assert.Equal(a.Select(f).ToArray(), output.ToArray<long>());
        }
        Assert.Throws<NotSupportedException>(() => Cpu.Unary(UnaryOp.Exp, x.Strided, output.Strided));
    }

    [Fact]
    public void Where_and_axpy_match_the_reference_on_every_layout()
    {
        var g = new Generator(9);
        foreach (var length in Lengths)
        {
            var a = Inputs(length, g, withSpecials: false);
            var b = Inputs(length, g, withSpecials: false);
            var conditions = a.Select((_, i) => (long)(i % 3 == 0 ? 1 : 0)).ToArray();
            foreach (var dtype in new[] { DType.Float32, DType.Float64, DType.Int64 })
            {
                var output = Tensor.Zeros([length], dtype);
                Cpu.Where(Tensor.FromArray(conditions).To(dtype == DType.Int64 ? DType.Float32 : DType.Int64).Strided,
                    Strided(a, dtype).Strided, Tensor.FromArray(b).To(dtype).Strided, output.Strided);
                var actual = output.ToArray<double>();
                for (int i = 0; i < length; i++)
                    Assert.Equal(Convert(conditions[i] != 0 ? a[i] : b[i], dtype), actual[i]);
            }
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            {
                var y = Strided(b, dtype);
                Cpu.Axpy(-0.25, Tensor.FromArray(a).To(dtype).Strided, y.Strided);
                var actual = y.ToArray<double>();
                for (int i = 0; i < length; i++)
                    AssertClose(Expected((p, q) => q + -0.25 * p, a[i], b[i], dtype), actual[i], dtype, $"axpy n={length}");
            }
        }
    }

    private static double Convert(double v, DType dtype) => dtype switch
    {
        DType.Float32 => (float)v,
        DType.Int64 => (long)v,
        DType.Int32 => (int)v,
        DType.Bool => v != 0 ? 1 : 0,
        DType.Float16 => (double)(Half)v,
        DType.BFloat16 => BFloat16.FromDouble(v),
        _ => v,
    };

    [Fact]
    public void Copy_converts_between_every_pair_of_dtypes_on_strided_views()
    {
        double[] values = [-2.7, -0.5, 0, 0.5, 1.9, 3, 1e6];
        foreach (var from in Enum.GetValues<DType>())
            foreach (var to in Enum.GetValues<DType>())
            {
                var source = Strided(values, from);
                var target = Tensor.Zeros([values.Length], to);
                Cpu.Copy(source.Strided, target.Strided);
                var actual = target.ToArray<double>();
                for (int i = 0; i < values.Length; i++)
                    Assert.Equal(Convert(Convert(values[i], from), to), actual[i]);
            }
    }
}
