using Backprop.Nn;
using Backprop.Optim;

namespace Backprop.Tests.Optim;

/// <summary>
/// Each optimizer against its algorithm as PyTorch documents it, written out element by element in doubles over a
/// few steps with gradients that change sign and size. The parameter has 19 elements, so the kernels' vector lanes
/// and their scalar tail are both checked.
/// </summary>
public class OptimizerTests
{
    private const int Steps = 5;
    private const int Size = 19;
    private static readonly double[] Start = Enumerable.Range(0, Size).Select(i => (i % 2 == 0 ? 1.0 : -0.5) * (1 + 0.3 * i)).ToArray();

    private static double Gradient(int step, int i) => (1 + 0.1 * i) * (i % 3) switch
    {
        0 => 0.5 - 0.3 * step,
        1 => -1 + 0.2 * step,
        _ => 2 * (step % 2 == 0 ? 1 : -1) + 0.1 * step,
    };

    /// <summary>Runs <paramref name="optimizer"/> for <see cref="Steps"/> steps on a float64 parameter with the gradients above.</summary>
    private static double[] Run(Func<Parameter, Optimizer> optimizer, DType dtype = DType.Float64)
    {
        var p = new Parameter(Tensor.FromArray(Start).To(dtype));
        var opt = optimizer(p);
        for (int t = 0; t < Steps; t++)
        {
            p.Grad = Tensor.FromArray(Enumerable.Range(0, Size).Select(i => Gradient(t, i)).ToArray()).To(dtype);
            opt.Step();
        }
        return p.ToArray<double>();
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance = 1e-12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"element {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }

    // ---- SGD ----

    private static double[] SgdReference(double lr, double momentum = 0, double dampening = 0, double weightDecay = 0,
        bool nesterov = false, bool maximize = false)
    {
        var result = new double[Size];
        for (int i = 0; i < Size; i++)
        {
            double p = Start[i];
            double? b = null;
            for (int t = 0; t < Steps; t++)
            {
                double g = maximize ? -Gradient(t, i) : Gradient(t, i);
                g += weightDecay * p;
                if (momentum != 0)
                {
                    b = b is null ? g : momentum * b.Value + (1 - dampening) * g;
                    g = nesterov ? g + momentum * b.Value : b.Value;
                }
                p -= lr * g;
            }
            result[i] = p;
        }
        return result;
    }

    [Fact]
    public void Sgd_first_step_by_hand()
    {
        var p = new Parameter(Tensor.FromArray(new[] { 1.0, 2.0 }));
        var opt = new Sgd([p], learningRate: 0.1, momentum: 0.9);
        p.Grad = Tensor.FromArray(new[] { 0.5, -1.0 });
        opt.Step();
        Assert.Equal([0.95, 2.1], p.ToArray<double>());
        // The momentum buffer starts as the first gradient: the second step moves by 0.1·(0.9·0.5 + 0.5).
        opt.Step();
        AssertClose([0.95 - 0.1 * 0.95, 2.1 + 0.1 * 1.9], p.ToArray<double>());
        Assert.Equal(2, opt.GetState(p)!.Step);
    }

    [Theory]
    [InlineData(0.1, 0.0, 0.0, 0.0, false, false)]
    [InlineData(0.1, 0.9, 0.0, 0.0, false, false)]
    [InlineData(0.05, 0.8, 0.3, 0.0, false, false)]
    [InlineData(0.1, 0.9, 0.0, 0.0, true, false)]
    [InlineData(0.1, 0.5, 0.0, 0.01, false, false)]
    [InlineData(0.2, 0.7, 0.0, 0.1, true, false)]
    [InlineData(0.1, 0.9, 0.1, 0.0, false, true)]
    public void Sgd_matches_the_documented_algorithm(double lr, double momentum, double dampening, double weightDecay, bool nesterov, bool maximize)
    {
        var actual = Run(p => new Sgd([p], lr, momentum, dampening, weightDecay, nesterov, maximize));
        AssertClose(SgdReference(lr, momentum, dampening, weightDecay, nesterov, maximize), actual);
    }

    [Fact]
    public void Sgd_rejects_nesterov_without_momentum() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([new Parameter(Tensor.Zeros(1))], nesterov: true));

    // ---- Adam and AdamW ----

    private static double[] AdamReference(double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad,
        bool decoupled, bool maximize = false)
    {
        var result = new double[Size];
        for (int i = 0; i < Size; i++)
        {
            double p = Start[i], m = 0, v = 0, vMax = 0;
            for (int t = 1; t <= Steps; t++)
            {
                double g = maximize ? -Gradient(t - 1, i) : Gradient(t - 1, i);
                if (decoupled) p *= 1 - lr * weightDecay;
                else g += weightDecay * p;
                m = beta1 * m + (1 - beta1) * g;
                v = beta2 * v + (1 - beta2) * g * g;
                double mHat = m / (1 - Math.Pow(beta1, t));
                vMax = Math.Max(vMax, v);
                double vHat = (amsgrad ? vMax : v) / (1 - Math.Pow(beta2, t));
                p -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
            result[i] = p;
        }
        return result;
    }

    [Fact]
    public void Adam_first_step_moves_each_weight_by_about_the_learning_rate()
    {
        // m̂ = g and v̂ = g² after one step, so the update is γ·g / (|g| + ε).
        var p = new Parameter(Tensor.FromArray(new[] { 1.0, 2.0 }));
        var opt = new Adam([p], learningRate: 0.1);
        p.Grad = Tensor.FromArray(new[] { 0.5, -4.0 });
        opt.Step();
        AssertClose([1 - 0.1 * 0.5 / (0.5 + 1e-8), 2 + 0.1 * 4 / (4 + 1e-8)], p.ToArray<double>(), 1e-15);
    }

    [Theory]
    [InlineData(0.1, 0.9, 0.999, 1e-8, 0.0, false)]
    [InlineData(0.01, 0.8, 0.99, 1e-3, 0.0, false)]
    [InlineData(0.1, 0.9, 0.999, 1e-8, 0.1, false)]
    [InlineData(0.1, 0.9, 0.99, 1e-8, 0.0, true)]
    [InlineData(0.05, 0.5, 0.9, 1e-6, 0.05, true)]
    public void Adam_matches_the_documented_algorithm(double lr, double beta1, double beta2, double eps, double weightDecay, bool amsgrad)
    {
        var actual = Run(p => new Adam([p], lr, beta1, beta2, eps, weightDecay, amsgrad));
        AssertClose(AdamReference(lr, beta1, beta2, eps, weightDecay, amsgrad, decoupled: false), actual);
    }

    [Theory]
    [InlineData(0.1, 0.01, false)]
    [InlineData(0.05, 0.5, false)]
    [InlineData(0.1, 0.1, true)]
    public void AdamW_decays_the_weights_apart_from_the_gradient(double lr, double weightDecay, bool amsgrad)
    {
        var actual = Run(p => new AdamW([p], lr, weightDecay: weightDecay, amsgrad: amsgrad));
        AssertClose(AdamReference(lr, 0.9, 0.999, 1e-8, weightDecay, amsgrad, decoupled: true), actual);
        Assert.NotEqual(AdamReference(lr, 0.9, 0.999, 1e-8, weightDecay, amsgrad, decoupled: false)[0], actual[0], 6);
    }

    [Fact]
    public void Adam_maximize_climbs()
    {
        var actual = Run(p => new Adam([p], 0.1, maximize: true));
        AssertClose(AdamReference(0.1, 0.9, 0.999, 1e-8, 0, false, false, maximize: true), actual);
    }

    [Fact]
    public void Adam_on_float32_matches_to_float_precision()
    {
        var actual = Run(p => new Adam([p], 0.1, amsgrad: true), DType.Float32);
        AssertClose(AdamReference(0.1, 0.9, 0.999, 1e-8, 0, true, false), actual, 2e-6);
    }

    // ---- RMSprop ----

    private static double[] RmsPropReference(double lr, double alpha, double eps, double weightDecay, double momentum, bool centered)
    {
        var result = new double[Size];
        for (int i = 0; i < Size; i++)
        {
            double p = Start[i], v = 0, gAvg = 0, b = 0;
            for (int t = 0; t < Steps; t++)
            {
                double g = Gradient(t, i) + weightDecay * p;
                v = alpha * v + (1 - alpha) * g * g;
                double vTilde = v;
                if (centered)
                {
                    gAvg = alpha * gAvg + (1 - alpha) * g;
                    vTilde -= gAvg * gAvg;
                }
                if (momentum > 0)
                {
                    b = momentum * b + g / (Math.Sqrt(vTilde) + eps);
                    p -= lr * b;
                }
                else p -= lr * g / (Math.Sqrt(vTilde) + eps);
            }
            result[i] = p;
        }
        return result;
    }

    [Theory]
    [InlineData(0.01, 0.99, 1e-8, 0.0, 0.0, false)]
    [InlineData(0.01, 0.9, 1e-8, 0.0, 0.9, false)]
    [InlineData(0.01, 0.9, 1e-6, 0.0, 0.0, true)]
    [InlineData(0.02, 0.8, 1e-8, 0.1, 0.5, true)]
    public void RmsProp_matches_the_documented_algorithm(double lr, double alpha, double eps, double weightDecay, double momentum, bool centered)
    {
        var actual = Run(p => new RmsProp([p], lr, alpha, eps, weightDecay, momentum, centered));
        AssertClose(RmsPropReference(lr, alpha, eps, weightDecay, momentum, centered), actual);
    }

    // ---- Adagrad ----

    private static double[] AdagradReference(double lr, double lrDecay, double weightDecay, double initial, double eps)
    {
        var result = new double[Size];
        for (int i = 0; i < Size; i++)
        {
            double p = Start[i], sum = initial;
            for (int t = 1; t <= Steps; t++)
            {
                double g = Gradient(t - 1, i) + weightDecay * p;
                double rate = lr / (1 + (t - 1) * lrDecay);
                sum += g * g;
                p -= rate * g / (Math.Sqrt(sum) + eps);
            }
            result[i] = p;
        }
        return result;
    }

    [Fact]
    public void Adagrad_first_step_by_hand()
    {
        var p = new Parameter(Tensor.FromArray(new[] { 1.0 }));
        var opt = new Adagrad([p], learningRate: 0.5, initialAccumulatorValue: 0.25);
        p.Grad = Tensor.FromArray(new[] { 1.5 });
        opt.Step();
        // sum = 0.25 + 2.25 = 2.5; step 0.5·1.5 / (√2.5 + 1e−10).
        AssertClose([1 - 0.75 / (Math.Sqrt(2.5) + 1e-10)], p.ToArray<double>(), 1e-15);
    }

    [Theory]
    [InlineData(0.1, 0.0, 0.0, 0.0, 1e-10)]
    [InlineData(0.1, 0.5, 0.0, 0.1, 1e-10)]
    [InlineData(0.3, 0.1, 0.05, 1.0, 1e-6)]
    public void Adagrad_matches_the_documented_algorithm(double lr, double lrDecay, double weightDecay, double initial, double eps)
    {
        var actual = Run(p => new Adagrad([p], lr, lrDecay, weightDecay, initial, eps));
        AssertClose(AdagradReference(lr, lrDecay, weightDecay, initial, eps), actual);
    }

    // ---- groups and bookkeeping ----

    [Fact]
    public void Parameter_groups_have_their_own_learning_rates()
    {
        var body = new Parameter(Tensor.FromArray(new[] { 1.0 }));
        var head = new Parameter(Tensor.FromArray(new[] { 1.0 }));
        var opt = new Sgd([body], learningRate: 0.1, momentum: 0.5);
        opt.AddParamGroup([head], opt.Defaults with { LearningRate = 0.01 });
        body.Grad = Tensor.FromArray(new[] { 1.0 });
        head.Grad = Tensor.FromArray(new[] { 1.0 });
        opt.Step();
        Assert.Equal(0.9, body.ToArray<double>()[0], 15);
        Assert.Equal(0.99, head.ToArray<double>()[0], 15);

        opt.ParamGroups[0].LearningRate = 1;
        Assert.Equal(0.1, opt.Defaults.LearningRate);
        Assert.Equal(0.5, ((SgdOptions)opt.ParamGroups[1].Options).Momentum);
    }

    [Fact]
    public void Parameters_without_gradients_are_skipped()
    {
        var a = new Parameter(Tensor.FromArray(new[] { 1.0 }));
        var b = new Parameter(Tensor.FromArray(new[] { 1.0 }));
        var opt = new Adam([a, b], learningRate: 0.1);
        a.Grad = Tensor.FromArray(new[] { 1.0 });
        opt.Step();
        Assert.Equal([1.0], b.ToArray<double>());
        Assert.Null(opt.GetState(b));
        Assert.Equal(1, opt.GetState(a)!.Step);
    }

    [Fact]
    public void ZeroGrad_clears_every_group()
    {
        var a = new Parameter(Tensor.Ones(2));
        var b = new Parameter(Tensor.Ones(2));
        var opt = new Sgd([a]);
        opt.AddParamGroup([b]);
        a.Grad = Tensor.Ones(2);
        b.Grad = Tensor.Ones(2);
        opt.ZeroGrad(setToNone: false);
        Assert.Equal([0f, 0f], b.Grad!.ToArray<float>());
        opt.ZeroGrad();
        Assert.Null(a.Grad);
        Assert.Null(b.Grad);
    }

    [Fact]
    public void Bad_parameter_lists_are_refused()
    {
        var p = new Parameter(Tensor.Ones(2));
        Assert.Throws<ArgumentException>(() => new Sgd([p, p]));
        var opt = new Sgd([p]);
        Assert.Throws<ArgumentException>(() => opt.AddParamGroup([p]));
        Assert.Throws<ArgumentException>(() => new Sgd([p * 2.0]));
        Assert.Throws<ArgumentException>(() => new Sgd(Array.Empty<Tensor>()));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([new Parameter(Tensor.Ones(1))], beta1: 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([new Parameter(Tensor.Ones(1))], learningRate: -1));
    }

    public static TheoryData<string> Names => ["sgd", "adam", "adamw", "rmsprop", "adagrad"];

    private static Optimizer Make(string name, Tensor p) => name switch
    {
        "sgd" => new Sgd([p], 0.1, momentum: 0.9, weightDecay: 0.1),
        "adam" => new Adam([p], 0.1, amsgrad: true),
        "adamw" => new AdamW([p], 0.1),
        "rmsprop" => new RmsProp([p], 0.1, momentum: 0.5, centered: true),
        _ => new Adagrad([p], 0.1),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void Non_contiguous_parameters_and_gradients_update_like_contiguous_ones(string name)
    {
        var values = Tensor.FromArray(new[] { 1.0, -2.0, 3.0, 0.5, -0.25, 4.0 }, 2, 3);
        var contiguous = new Parameter(values.Clone());
        var transposed = new Parameter(values.T.Clone().T); // the same values, column-major
        Assert.False(transposed.IsContiguous);
        var a = Make(name, contiguous);
        var b = Make(name, transposed);
        for (int t = 0; t < 3; t++)
        {
            var grad = Tensor.FromArray(new[] { 0.3, -1.0, 2.0, 0.1 * t, -0.5, 1.5 }, 2, 3);
            contiguous.Grad = grad;
            transposed.Grad = grad.T.Clone().T;
            int version = transposed.Version;
            a.Step();
            b.Step();
            Assert.True(transposed.Version > version);
        }
        Assert.Equal(contiguous.ToArray<double>(), transposed.ToArray<double>());
    }

    [Fact]
    public void A_step_invalidates_graphs_that_saved_the_parameter()
    {
        var p = new Parameter(Tensor.FromArray(new[] { 1.0, 2.0 }));
        var opt = new Adam([p]);
        var y = (p * p).Sum();
        p.Grad = Tensor.FromArray(new[] { 1.0, 1.0 });
        opt.Step();
        Assert.Throws<InvalidOperationException>(() => y.Backward());
    }

    [Fact]
    public void An_mlp_learns_xor()
    {
        var g = new Generator(4);
        var model = new Sequential(new Linear(2, 8, generator: g), new Tanh(), new Linear(8, 1, generator: g));
        var x = Tensor.FromArray(new float[] { 0, 0, 0, 1, 1, 0, 1, 1 }, 4, 2);
        var y = Tensor.FromArray(new float[] { 0, 1, 1, 0 }, 4, 1);
        var loss = new MseLoss();
        var opt = new Adam(model.Parameters(), learningRate: 0.05);
        double last = double.PositiveInfinity;
        for (int step = 0; step < 300; step++)
        {
            opt.ZeroGrad();
            var l = loss.Forward(model.Forward(x), y);
            l.Backward();
            opt.Step();
            last = l.Item();
        }
        Assert.True(last < 1e-3, $"loss after 300 steps: {last}");
    }
}
