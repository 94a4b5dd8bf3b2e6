using Backprop.Diagnostics;
using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>
/// Scaled dot-product attention against a float64 reference written with loops (matmul, softmax and masks by hand),
/// and the exact zeros that masks promise: no gradient through a causal mask, to padding, or out of a row that attends
/// nothing.
/// </summary>
public class AttentionTests
{
    /// <summary>softmax(scale·q·kᵀ + add, masked)·v over [B, L, E] arrays; keep/add are [B, Lq, Lk] or null; an all-masked row gives 0.</summary>
    internal static double[] ReferenceAttention(double[] q, double[] k, double[] v, int b, int lq, int lk, int e, int ev,
        bool[]? keep = null, double[]? add = null, bool causal = false, double? scale = null)
    {
        double s = scale ?? 1 / Math.Sqrt(e);
        var output = new double[b * lq * ev];
        var scores = new double[lk];
        for (int n = 0; n < b; n++)
            for (int i = 0; i < lq; i++)
            {
                double max = double.NegativeInfinity;
                for (int j = 0; j < lk; j++)
                {
                    double dot = 0;
                    for (int d = 0; d < e; d++) dot += q[(n * lq + i) * e + d] * k[(n * lk + j) * e + d];
                    int m = (n * lq + i) * lk + j;
                    double score = dot * s + (add?[m] ?? 0);
                    if ((keep is not null && !keep[m]) || (causal && j > i)) score = double.NegativeInfinity;
                    scores[j] = score;
                    max = Math.Max(max, score);
                }
                if (double.IsNegativeInfinity(max)) continue;
                double total = 0;
                for (int j = 0; j < lk; j++) total += scores[j] = Math.Exp(scores[j] - max);
                for (int j = 0; j < lk; j++)
                    for (int d = 0; d < ev; d++) output[(n * lq + i) * ev + d] += scores[j] / total * v[(n * lk + j) * ev + d];
            }
        return output;
    }

    private static Tensor Random(Generator g, params int[] shape) => Tensor.Randn(new Shape(shape), DType.Float64, g);

    private static void AssertClose(double[] expected, double[] actual, double tolerance, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * Math.Max(1, Math.Abs(expected[i])),
                $"{what}: element {i} is {actual[i]}, expected {expected[i]}");
    }

    public static TheoryData<string> MaskKinds => new() { "none", "causal", "bool", "additive", "bool and causal" };

    [Theory]
    [MemberData(nameof(MaskKinds))]
    public void Attention_equals_the_float64_reference(string maskKind)
    {
        const int B = 3, Lq = 5, Lk = 7, E = 4, Ev = 6;
        var g = new Generator(11);
        var q = Random(g, B, Lq, E);
        var k = Random(g, B, Lk, E);
        var v = Random(g, B, Lk, Ev);
        var keepData = Enumerable.Range(0, B * Lq * Lk).Select(i => (i * 7 + i / 5) % 3 != 0).ToArray();
        var addData = Tensor.Randn(new Shape(B, Lq, Lk), DType.Float64, g).ToArray<double>();
        bool causal = maskKind.Contains("causal");
        Tensor? mask = maskKind.StartsWith("bool") ? Tensor.FromArray(keepData, B, Lq, Lk)
            : maskKind == "additive" ? Tensor.FromArray(addData, B, Lq, Lk) : null;
        var expected = ReferenceAttention(q.ToArray<double>(), k.ToArray<double>(), v.ToArray<double>(), B, Lq, Lk, E, Ev,
            maskKind.StartsWith("bool") ? keepData : null, maskKind == "additive" ? addData : null, causal);

        var exact = Functional.ScaledDotProductAttention(q, k, v, mask, isCausal: causal);
        AssertClose(expected, exact.ToArray<double>(), 1e-12, $"float64, {maskKind}");
        var single = Functional.ScaledDotProductAttention(q.Float(), k.Float(), v.Float(), mask?.DType == DType.Float64 ? mask.Float() : mask, isCausal: causal);
        AssertClose(expected, single.Double().ToArray<double>(), 1e-5, $"float32, {maskKind}");
    }

    [Fact]
    public void Logits_of_plus_minus_1e4_neither_overflow_nor_lose_the_winner()
    {
        // Scores of ±1e4: exp would overflow without the max subtracted first. Each query picks one key outright.
        var q = Tensor.FromArray(new float[] { 100, 0, 0, 100, -100, 0 }, 1, 3, 2);
        var k = Tensor.FromArray(new float[] { 100, 0, 0, 100, -100, -100 }, 1, 3, 2);
        var v = Tensor.FromArray(new float[] { 1, 2, 3 }, 1, 3, 1);
        var y = Functional.ScaledDotProductAttention(q, k, v, scale: 1);
        Assert.Equal([1f, 2f, 3f], y.ToArray<float>());
    }

    [Fact]
    public void A_query_with_every_key_masked_gives_zero_output_and_passes_no_gradient()
    {
        var g = new Generator(5);
        var q = Random(g, 2, 3, 4).SetRequiresGrad();
        var k = Random(g, 2, 4, 4).SetRequiresGrad();
        var v = Random(g, 2, 4, 2).SetRequiresGrad();
        // Query 1 attends nothing; queries 0 and 2 attend keys 0 and 2 only.
        var keep = Tensor.FromArray(new[] { true, false, true, false, false, false, false, false, true, false, true, false }, 3, 4);
        var y = Functional.ScaledDotProductAttention(q, k, v, keep);
        var values = y.ToArray<double>();
        Assert.All(values, x => Assert.False(double.IsNaN(x)));
        for (int n = 0; n < 2; n++) Assert.Equal([0.0, 0.0], values.Skip(n * 6 + 2).Take(2));
        y.Backward(Tensor.OnesLike(y));
        var qGrad = q.Grad!.ToArray<double>();
        for (int n = 0; n < 2; n++) Assert.All(qGrad.Skip(n * 12 + 4).Take(4), x => Assert.Equal(0.0, x));
        // Keys 1 and 3 are attended by nobody: exactly zero gradient.
        var kGrad = k.Grad!.ToArray<double>();
        var vGrad = v.Grad!.ToArray<double>();
        foreach (int n in new[] { 0, 1 })
            foreach (int j in new[] { 1, 3 })
            {
                Assert.All(kGrad.Skip((n * 4 + j) * 4).Take(4), x => Assert.Equal(0.0, x));
                Assert.All(vGrad.Skip((n * 4 + j) * 2).Take(2), x => Assert.Equal(0.0, x));
            }
        Assert.All(kGrad.Concat(vGrad).Concat(qGrad), x => Assert.True(double.IsFinite(x)));

        // The same by an additive −∞ mask, in float32, and through the composed (needWeights) path.
        var minusInf = Tensor.Where(keep, 0.0, Tensor.Full(new Shape(), double.NegativeInfinity));
        var additive = Functional.ScaledDotProductAttention(q.Detach().Float(), k.Detach().Float(), v.Detach().Float(), minusInf);
        Assert.All(additive.ToArray<float>(), x => Assert.False(float.IsNaN(x)));
        Assert.Equal(0f, additive.ToArray<float>()[2]);
    }

    [Fact]
    public void Under_the_causal_mask_output_t_has_exactly_zero_gradient_with_respect_to_later_positions()
    {
        const int L = 6;
        var g = new Generator(2);
        for (int t = 0; t < L; t++)
        {
            var q = Random(g, 2, 2, L, 3).Float().SetRequiresGrad();
            var k = Random(g, 2, 2, L, 3).Float().SetRequiresGrad();
            var v = Random(g, 2, 2, L, 3).Float().SetRequiresGrad();
            var y = Functional.ScaledDotProductAttention(q, k, v, isCausal: true);
            y.Select(2, t).Sum().Backward();
            foreach (var (name, input) in new[] { ("query", q), ("key", k), ("value", v) })
            {
                var grad = input.Grad!.ToArray<float>();
                for (int row = 0; row < 4; row++)
                    for (int s = 0; s < L; s++)
                        for (int d = 0; d < 3; d++)
                        {
                            float x = grad[(row * L + s) * 3 + d];
                            if (s > t) Assert.True(x == 0, $"∂y[{t}]/∂{name}[{s}] = {x}, must be exactly 0");
                        }
                // Value t itself does receive gradient (the mask does not hide the diagonal). (Query and key do too,
                // except at t = 0, where the one visible key gets weight 1 whatever the scores.)
                if (name == "value" || t > 0) Assert.Contains(grad.Skip(t * 3).Take(3), x => x != 0);
            }
        }
    }

    [Fact]
    public void Dropout_draws_its_mask_from_the_generator_and_keeps_the_expectation()
    {
        var g = new Generator(4);
        var q = Random(g, 2, 8, 4);
        var k = Random(g, 2, 8, 4);
        var v = Random(g, 2, 8, 4);
        var a = Functional.ScaledDotProductAttention(q, k, v, dropoutP: 0.5, generator: new Generator(1)).ToArray<double>();
        var b = Functional.ScaledDotProductAttention(q, k, v, dropoutP: 0.5, generator: new Generator(1)).ToArray<double>();
        var plain = Functional.ScaledDotProductAttention(q, k, v).ToArray<double>();
        Assert.Equal(a, b);
        Assert.NotEqual(plain, a);
        Assert.All(Functional.ScaledDotProductAttention(q, k, v, dropoutP: 1).ToArray<double>(), x => Assert.Equal(0.0, x));
    }

    [Fact]
    public void Bad_shapes_and_masks_are_refused_naming_the_op()
    {
        var q = Tensor.Randn(2, 3, 4);
        var error = Assert.Throws<ShapeMismatchException>(() => Functional.ScaledDotProductAttention(q, Tensor.Randn(2, 5, 3), Tensor.Randn(2, 5, 4)));
        Assert.Contains("ScaledDotProductAttention", error.Message);
        error = Assert.Throws<ShapeMismatchException>(() => Functional.ScaledDotProductAttention(q, Tensor.Randn(2, 5, 4), Tensor.Randn(2, 5, 4), Tensor.Ones(3, 4).Bool()));
        Assert.Contains("attnMask", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Functional.ScaledDotProductAttention(q, q, q, scale: -1));
    }

    [Fact]
    public void The_fused_kernel_does_not_depend_on_the_thread_count()
    {
        var g = new Generator(8);
        var q = Tensor.Randn(new Shape(4, 2, 33, 8), generator: g);
        var k = Tensor.Randn(new Shape(4, 2, 40, 8), generator: g);
        var v = Tensor.Randn(new Shape(4, 2, 40, 8), generator: g);
        var reference = Functional.ScaledDotProductAttention(q, k, v, isCausal: true).ToArray<float>();
        int before = Backprop.Backends.Cpu.CpuBackend.ThreadCount;
        try
        {
            Backprop.Backends.Cpu.CpuBackend.ThreadCount = 1;
            Assert.Equal(reference, Functional.ScaledDotProductAttention(q, k, v, isCausal: true).ToArray<float>());
        }
        finally
        {
            Backprop.Backends.Cpu.CpuBackend.ThreadCount = before;
        }
    }
}
