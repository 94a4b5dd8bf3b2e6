using Backprop.Nn;

namespace Backprop.Tests.Nn;

public class LossTests
{
    private const int Precision = 12;

    private static Tensor T(params double[] values) => Tensor.FromArray(values);

    private static Tensor Labels(params long[] values) => Tensor.FromArray(values);

    private static readonly Tensor Prediction = T(1, 2, 3);
    private static readonly Tensor Target = T(1.5, 1, 5); // differences −0.5, 1, −2

    [Fact]
    public void Mse()
    {
        Assert.Equal((0.25 + 1 + 4) / 3, new MseLoss().Forward(Prediction, Target).Item(), Precision);
        Assert.Equal(5.25, new MseLoss(Reduction.Sum).Forward(Prediction, Target).Item(), Precision);
        Assert.Equal([0.25, 1, 4], new MseLoss(Reduction.None).Forward(Prediction, Target).ToArray<double>());
    }

    [Fact]
    public void L1()
    {
        Assert.Equal(3.5 / 3, new L1Loss().Forward(Prediction, Target).Item(), Precision);
        Assert.Equal([0.5, 1, 2], new L1Loss(Reduction.None).Forward(Prediction, Target).ToArray<double>());
        var x = T(1, 2, 3).SetRequiresGrad();
        new L1Loss(Reduction.Sum).Forward(x, Target).Backward();
        Assert.Equal([-1.0, 1, -1], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void Huber()
    {
        // δ = 1: |d| = 0.5 is inside (½d²), 1 and 2 are not (δ(|d| − ½δ)).
        Assert.Equal([0.125, 0.5, 1.5], new HuberLoss(reduction: Reduction.None).Forward(Prediction, Target).ToArray<double>());
        Assert.Equal((0.125 + 0.5 + 1.5) / 3, new HuberLoss().Forward(Prediction, Target).Item(), Precision);
        // δ = 2: 0.5 and 1 inside, 2 on the edge counts as outside: 2·(2 − 1).
        Assert.Equal(0.125 + 0.5 + 2, new HuberLoss(delta: 2, Reduction.Sum).Forward(Prediction, Target).Item(), Precision);
        var x = T(1, 2, 3).SetRequiresGrad();
        new HuberLoss(reduction: Reduction.Sum).Forward(x, Target).Backward();
        Assert.Equal([-0.5, 1, -1], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void SmoothL1_is_huber_over_beta()
    {
        Assert.Equal([0.0625, 0.25, 1], new SmoothL1Loss(beta: 2, Reduction.None).Forward(Prediction, Target).ToArray<double>());
        Assert.Equal([0.5, 1, 2], new SmoothL1Loss(beta: 0, Reduction.None).Forward(Prediction, Target).ToArray<double>());
    }

    [Fact]
    public void Binary_cross_entropy_with_weights()
    {
        var p = T(0.8, 0.3);
        var y = T(1, 0);
        double l0 = -Math.Log(0.8), l1 = -Math.Log(0.7);
        Assert.Equal((l0 + l1) / 2, new BceLoss().Forward(p, y).Item(), Precision);
        Assert.Equal((2 * l0 + l1) / 2, new BceLoss(weight: T(2, 1)).Forward(p, y).Item(), Precision);
    }

    private static double LogSigmoid(double x) => -Math.Log(1 + Math.Exp(-x));

    [Fact]
    public void Binary_cross_entropy_with_logits_pos_weight_and_weight()
    {
        var x = T(0.5, -1, 2, -3);
        var y = T(1, 0, 1, 0.25);
        double[] positive = [-LogSigmoid(0.5), 0, -LogSigmoid(2), -0.25 * LogSigmoid(-3)];
        double[] negative = [0, -LogSigmoid(1), 0, -0.75 * LogSigmoid(3)]; // log(1 − σ(x)) = log σ(−x)

        var plain = new BceWithLogitsLoss(reduction: Reduction.None).Forward(x, y).ToArray<double>();
        for (int i = 0; i < 4; i++) Assert.Equal(positive[i] + negative[i], plain[i], Precision);

        var posWeight = T(3, 3, 0.5, 2);
        var weight = T(1, 2, 1, 0.5);
        var weighted = new BceWithLogitsLoss(weight, posWeight, Reduction.None).Forward(x, y).ToArray<double>();
        double[] pw = [3, 3, 0.5, 2], w = [1, 2, 1, 0.5];
        for (int i = 0; i < 4; i++) Assert.Equal(w[i] * (pw[i] * positive[i] + negative[i]), weighted[i], Precision);

        double mean = Enumerable.Range(0, 4).Average(i => w[i] * (pw[i] * positive[i] + negative[i]));
        Assert.Equal(mean, new BceWithLogitsLoss(weight, posWeight).Forward(x, y).Item(), Precision);
    }

    [Fact]
    public void Binary_cross_entropy_with_logits_is_stable_for_large_logits()
    {
        var loss = Functional.BinaryCrossEntropyWithLogits(T(200, -200), T(0, 1), posWeight: T(2, 2), reduction: Reduction.None);
        Assert.Equal([200.0, 400.0], loss.ToArray<double>());
    }

    // Two samples of three classes: log-probabilities by hand.
    private static readonly Tensor Logits = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 1.0, 1.0, 1.0 }, 2, 3);
    private static readonly double Lse0 = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
    private static readonly double[][] LogP = [[1 - Lse0, 2 - Lse0, 3 - Lse0], [-Math.Log(3), -Math.Log(3), -Math.Log(3)]];

    [Fact]
    public void Cross_entropy_plain_and_ignored()
    {
        double nll0 = -LogP[0][2], nll1 = -LogP[1][0];
        Assert.Equal((nll0 + nll1) / 2, new CrossEntropyLoss().Forward(Logits, Labels(2, 0)).Item(), Precision);
        Assert.Equal(nll0, new CrossEntropyLoss().Forward(Logits, Labels(2, -100)).Item(), Precision);
        Assert.Equal(nll1, new CrossEntropyLoss(ignoreIndex: 2).Forward(Logits, Labels(2, 0)).Item(), Precision);
    }

    [Fact]
    public void Cross_entropy_with_class_weights_divides_by_the_target_weights()
    {
        var weight = T(0.2, 1, 3);
        double nll0 = -LogP[0][2], nll1 = -LogP[1][0];
        Assert.Equal((3 * nll0 + 0.2 * nll1) / 3.2, new CrossEntropyLoss(weight).Forward(Logits, Labels(2, 0)).Item(), Precision);
        Assert.Equal(3 * nll0 + 0.2 * nll1, new CrossEntropyLoss(weight, reduction: Reduction.Sum).Forward(Logits, Labels(2, 0)).Item(), Precision);
        var perSample = new CrossEntropyLoss(weight, ignoreIndex: 0, reduction: Reduction.None).Forward(Logits, Labels(2, 0)).ToArray<double>();
        Assert.Equal(3 * nll0, perSample[0], Precision);
        Assert.Equal(0.0, perSample[1]);
    }

    [Fact]
    public void Cross_entropy_with_label_smoothing_mixes_in_the_uniform_target()
    {
        const double eps = 0.1;
        double Smoothed(int n, int target) => (1 - eps) * -LogP[n][target] + eps / 3 * -LogP[n].Sum();
        Assert.Equal((Smoothed(0, 2) + Smoothed(1, 0)) / 2,
            new CrossEntropyLoss(labelSmoothing: eps).Forward(Logits, Labels(2, 0)).Item(), Precision);
        // An ignored sample contributes to neither term, and is not counted.
        Assert.Equal(Smoothed(0, 2), new CrossEntropyLoss(labelSmoothing: eps).Forward(Logits, Labels(2, -100)).Item(), Precision);
    }

    [Fact]
    public void Cross_entropy_with_weights_and_label_smoothing()
    {
        const double eps = 0.3;
        double[] w = [0.2, 1, 3];
        double Term(int n, int target) =>
            (1 - eps) * w[target] * -LogP[n][target] + eps / 3 * -Enumerable.Range(0, 3).Sum(c => w[c] * LogP[n][c]);
        var loss = new CrossEntropyLoss(T(w), labelSmoothing: eps).Forward(Logits, Labels(2, 0)).Item();
        Assert.Equal((Term(0, 2) + Term(1, 0)) / (w[2] + w[0]), loss, Precision);
    }

    [Fact]
    public void Nll_with_weights_and_ignore_index()
    {
        var logProbs = Logits.LogSoftmax(1);
        var weight = T(0.2, 1, 3);
        Assert.Equal(-LogP[0][2], new NllLoss(weight, ignoreIndex: 0).Forward(logProbs, Labels(2, 0)).Item(), Precision);
        Assert.Equal((3 * -LogP[0][2] + 0.2 * -LogP[1][0]) / 3.2, new NllLoss(weight).Forward(logProbs, Labels(2, 0)).Item(), Precision);
        Assert.Equal(new CrossEntropyLoss(weight).Forward(Logits, Labels(1, 2)).Item(),
            new NllLoss(weight).Forward(logProbs, Labels(1, 2)).Item(), Precision);
    }

    [Fact]
    public void Loss_weights_are_buffers_named_like_pytorch()
    {
        Assert.Equal(["weight"], new CrossEntropyLoss(T(1, 2)).StateDict().Keys);
        Assert.Equal(["weight", "pos_weight"], new BceWithLogitsLoss(T(1), T(2)).StateDict().Keys);
        Assert.Equal(["pos_weight"], new BceWithLogitsLoss(posWeight: T(2)).StateDict().Keys);
        Assert.Empty(new MseLoss().StateDict());
    }

    [Fact]
    public void Losses_validate_their_inputs()
    {
        Assert.Throws<ShapeMismatchException>(() => new L1Loss().Forward(T(1, 2), T(1, 2, 3)));
        Assert.Throws<ShapeMismatchException>(() => new CrossEntropyLoss(T(1, 2)).Forward(Logits, Labels(0, 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CrossEntropyLoss(labelSmoothing: 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HuberLoss(delta: 0).Forward(T(1), T(2)));
        var outOfRange = Assert.Throws<IndexOutOfRangeException>(() => new CrossEntropyLoss().Forward(Logits, Labels(0, 3)));
        Assert.Contains("CrossEntropy: target 3 of row 1 is out of range for 3 classes", outOfRange.Message);
        Assert.Throws<IndexOutOfRangeException>(() => new CrossEntropyLoss().Forward(Logits, Labels(-1, 0)));
    }

    [Fact]
    public void Cross_entropy_gradient_is_softmax_minus_one_hot_and_zero_on_ignored_rows()
    {
        // Kernel-mode backward of the fused rows against the formula, with an ignored row and a mean over the others.
        var logits = Logits.Clone().SetRequiresGrad();
        new CrossEntropyLoss(ignoreIndex: 7).Forward(logits, Labels(7, 1)).Backward();
        var softmax = Logits.Softmax(1).ToArray<double>();
        var grad = logits.Grad!.ToArray<double>();
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal(0.0, grad[c]);
            Assert.Equal(softmax[3 + c] - (c == 1 ? 1 : 0), grad[3 + c], 1e-15);
        }
    }

    [Fact]
    public void Loss_modules_take_forward_hooks()
    {
        var loss = new MseLoss();
        double seen = 0;
        using var hook = loss.RegisterForwardHook((m, pair, output) => seen = output.Item());
        var value = loss.Forward(Prediction, Target).Item();
        Assert.Equal(value, seen);
    }
}
