using Backprop.Diagnostics;
using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>
/// MultiheadAttention and the transformer layers: PyTorch's parameter names and state-dict keys, its mask conventions,
/// outputs against a composition of primitive ops in float64, and gradcheck of first and second order.
/// </summary>
public class TransformerTests
{
    private static Tensor Random(Generator g, params int[] shape) => Tensor.Randn(new Shape(shape), DType.Float64, g);

    private static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        var e = expected.Double().ToArray<double>();
        var a = actual.Double().ToArray<double>();
        for (int i = 0; i < e.Length; i++)
            Assert.True(Math.Abs(e[i] - a[i]) <= tolerance * Math.Max(1, Math.Abs(e[i])), $"{what}: element {i} is {a[i]}, expected {e[i]}");
    }

    /// <summary>
    /// PyTorch's multi_head_attention_forward from primitives, [L, N, E] layout: project, split heads, the loop
    /// reference per head (masks in MultiheadAttention's convention: true = not allowed), merge, project.
    /// </summary>
    private static Tensor ReferenceMha(MultiheadAttention mha, Tensor query, Tensor key, Tensor value, bool[]? padding = null, bool causal = false)
    {
        int e = mha.EmbedDim, h = mha.NumHeads, hd = e / h, l = query.Sizes[0], n = query.Sizes[1], s = key.Sizes[0];
        using var _ = Autograd.NoGrad();
        Tensor Project(Tensor x, int i) => x.MatMul((mha.InProjWeight is { } w ? w.Narrow(0, i * e, e) : i == 0 ? mha.QProjWeight! : i == 1 ? mha.KProjWeight! : mha.VProjWeight!).MT)
            + mha.InProjBias!.Narrow(0, i * e, e);
        var q = Project(query, 0).ToArray<double>();
        var k = Project(key, 1).ToArray<double>();
        var v = Project(value, 2).ToArray<double>();
        var merged = new double[l * n * e];
        for (int b = 0; b < n; b++)
            for (int head = 0; head < h; head++)
            {
                double[] Gather(double[] x, int length)
                {
                    var r = new double[length * hd];
                    for (int t = 0; t < length; t++)
                        for (int d = 0; d < hd; d++) r[t * hd + d] = x[(t * n + b) * e + head * hd + d];
                    return r;
                }
                bool[]? keep = padding is null ? null : Enumerable.Range(0, l * s).Select(i => !padding[b * s + i % s]).ToArray();
                var o = AttentionTests.ReferenceAttention(Gather(q, l), Gather(k, s), Gather(v, s), 1, l, s, hd, hd, keep, causal: causal);
                for (int t = 0; t < l; t++)
                    for (int d = 0; d < hd; d++) merged[(t * n + b) * e + head * hd + d] = o[t * hd + d];
            }
        return Tensor.FromArray(merged, l, n, e).MatMul(mha.OutProj.Weight.MT) + mha.OutProj.Bias!;
    }

    [Fact]
    public void MultiheadAttention_has_PyTorchs_state_dict_keys()
    {
        Assert.Equal(["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], new MultiheadAttention(8, 2).StateDict().Keys);
        var cross = new MultiheadAttention(8, 2, kdim: 3, vdim: 5);
        Assert.Equal(["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"], cross.StateDict().Keys);
        Assert.Equal([8, 3], cross.KProjWeight!.Sizes);
        Assert.Equal([8, 5], cross.VProjWeight!.Sizes);
        Assert.Equal(["in_proj_weight", "out_proj.weight"], new MultiheadAttention(8, 2, bias: false).StateDict().Keys);
    }

    [Fact]
    public void TransformerEncoderLayer_has_PyTorchs_state_dict_keys_and_loads_them_back()
    {
        string[] pytorch =
        [
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
        ];
        var layer = new TransformerEncoderLayer(8, 2, 16, generator: new Generator(1));
        var state = layer.StateDict();
        Assert.Equal(pytorch, state.Keys);
        Assert.Equal([24, 8], state["self_attn.in_proj_weight"].Sizes);
        Assert.Equal([16, 8], state["linear1.weight"].Sizes);

        var other = new TransformerEncoderLayer(8, 2, 16, generator: new Generator(2));
        var result = other.LoadStateDict(state);
        Assert.Empty(result.MissingKeys);
        Assert.Empty(result.UnexpectedKeys);
        var x = Tensor.Randn(new Shape(5, 3, 8), generator: new Generator(3));
        layer.Eval();
        other.Eval();
        Assert.Equal(layer.Forward(x).ToArray<float>(), other.Forward(x).ToArray<float>());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void MultiheadAttention_equals_the_primitive_reference(bool crossSizes, bool causal)
    {
        var g = new Generator(21);
        var mha = crossSizes
            ? new MultiheadAttention(6, 3, kdim: 4, vdim: 5, dtype: DType.Float64, generator: g)
            : new MultiheadAttention(6, 3, dtype: DType.Float64, generator: g);
        using (Autograd.NoGrad()) Init.Uniform(mha.InProjBias!, -1, 1, g);
        var query = Random(g, 4, 2, 6);
        var key = Random(g, 5, 2, crossSizes ? 4 : 6);
        var value = Random(g, 5, 2, crossSizes ? 5 : 6);
        if (causal) key = value = query;
        var padding = new[] { false, false, true, false, true, false, false, false, false, true };
        var paddingMask = Tensor.FromArray(padding.Take(2 * key.Sizes[0]).ToArray(), 2, key.Sizes[0]);
        var (output, weights) = mha.Forward(query, key, value, paddingMask, needWeights: false, isCausal: causal);
        Assert.Null(weights);
        var expected = ReferenceMha(mha, query, key, value, padding.Take(2 * key.Sizes[0]).ToArray(), causal);
        AssertClose(expected, output, 1e-12, "fused");
        var (composed, averaged) = mha.Forward(query, key, value, paddingMask, isCausal: causal);
        AssertClose(expected, composed, 1e-12, "needWeights");
        Assert.Equal([2, 4, key.Sizes[0]], averaged!.Sizes);
    }

    [Fact]
    public void Attention_weights_are_averaged_or_per_head_and_rows_sum_to_one()
    {
        var g = new Generator(6);
        var mha = new MultiheadAttention(8, 4, batchFirst: true, dtype: DType.Float64, generator: g);
        var x = Random(g, 2, 5, 8);
        var (_, averaged) = mha.Forward(x, x, x);
        var (_, perHead) = mha.Forward(x, x, x, averageAttnWeights: false);
        Assert.Equal([2, 5, 5], averaged!.Sizes);
        Assert.Equal([2, 4, 5, 5], perHead!.Sizes);
        AssertClose(perHead.Mean(1), averaged, 1e-15, "average of heads");
        Assert.All(averaged.Sum(-1).ToArray<double>(), s => Assert.True(Math.Abs(s - 1) <= 1e-12, $"row sum {s}"));
        // Unbatched input [L, E]: output [L, E], weights [L, S].
        var (single, singleWeights) = mha.Forward(x.Select(0, 1), x.Select(0, 1), x.Select(0, 1));
        Assert.Equal([5, 8], single.Sizes);
        Assert.Equal([5, 5], singleWeights!.Sizes);
        AssertClose(mha.Forward(x, x, x).Output.Select(0, 1), single, 1e-12, "unbatched");
    }

    [Fact]
    public void BatchFirst_is_the_same_layer_on_transposed_inputs()
    {
        var first = new MultiheadAttention(8, 2, batchFirst: true, dtype: DType.Float64, generator: new Generator(3));
        var second = new MultiheadAttention(8, 2, dtype: DType.Float64, generator: new Generator(3));
        var x = Random(new Generator(4), 3, 5, 8);
        var mask = Tensor.FromArray(new[] { false, false, false, true, true, false, false, false, false, false, false, true, false, false, false }, 3, 5);
        var a = first.Forward(x, x, x, mask).Output;
        var b = second.Forward(x.Transpose(0, 1), x.Transpose(0, 1), x.Transpose(0, 1), mask).Output.Transpose(0, 1);
        AssertClose(b, a, 1e-13, "batchFirst");
    }

    [Fact]
    public void Padding_positions_receive_exactly_zero_gradient()
    {
        var g = new Generator(9);
        var mha = new MultiheadAttention(8, 2, generator: g);
        var query = Tensor.Randn(new Shape(4, 2, 8), generator: g).SetRequiresGrad();
        var memory = Tensor.Randn(new Shape(6, 2, 8), generator: g).SetRequiresGrad();
        // Batch 0 pads keys 4 and 5, batch 1 pads key 0.
        var padding = Tensor.FromArray(new[] { false, false, false, false, true, true, true, false, false, false, false, false }, 2, 6);
        foreach (bool needWeights in new[] { false, true })
        {
            query.Grad = null;
            memory.Grad = null;
            var (output, _) = mha.Forward(query, memory, memory, padding, needWeights);
            (output * output).Sum().Backward();
            var grad = memory.Grad!.ToArray<float>();
            foreach (var (s, b) in new[] { (4, 0), (5, 0), (0, 1) })
                Assert.All(grad.Skip((s * 2 + b) * 8).Take(8), x => Assert.Equal(0f, x));
            Assert.Contains(grad.Skip((1 * 2 + 0) * 8).Take(8), x => x != 0);
        }
    }

    [Fact]
    public void Float_and_Bool_masks_mean_the_same()
    {
        var g = new Generator(12);
        var mha = new MultiheadAttention(4, 2, dtype: DType.Float64, generator: g);
        var x = Random(g, 3, 2, 4);
        var forbidden = Tensor.FromArray(new[] { false, true, false, false, false, true, true, false, false }, 3, 3);
        var additive = Tensor.Where(forbidden, double.NegativeInfinity, Tensor.Zeros(new Shape(), DType.Float64));
        var padding = Tensor.FromArray(new[] { false, false, true, false, false, false }, 2, 3);
        var a = mha.Forward(x, x, x, padding, needWeights: false, attnMask: forbidden).Output;
        var b = mha.Forward(x, x, x, Tensor.Where(padding, double.NegativeInfinity, Tensor.Zeros(new Shape(), DType.Float64)), needWeights: false, attnMask: additive).Output;
        AssertClose(a, b, 1e-14, "float vs Bool masks");
        var mixed = mha.Forward(x, x, x, padding, needWeights: false, attnMask: additive).Output;
        AssertClose(a, mixed, 1e-14, "Bool padding with a float attention mask");
    }

    [Theory]
    [InlineData(false, TransformerActivation.Relu)]
    [InlineData(true, TransformerActivation.Gelu)]
    [InlineData(true, TransformerActivation.GeluTanh)]
    public void TransformerEncoderLayer_equals_its_composition(bool normFirst, TransformerActivation activation)
    {
        var g = new Generator(31);
        var layer = new TransformerEncoderLayer(8, 2, 12, dropout: 0, activation: activation, normFirst: normFirst, dtype: DType.Float64, generator: g);
        var x = Random(g, 5, 3, 8);
        Tensor Act(Tensor t) => activation switch
        {
            TransformerActivation.Relu => t.Relu(),
            TransformerActivation.Gelu => t * ((t / Math.Sqrt(2)).Erf() + 1) * 0.5,
            _ => t * 0.5 * (((t + t.Pow(3) * 0.044715) * Math.Sqrt(2 / Math.PI)).Tanh() + 1),
        };
        Tensor Norm(LayerNorm n, Tensor t)
        {
            var mean = t.Mean(-1, keepDim: true);
            var variance = ((t - mean) * (t - mean)).Mean(-1, keepDim: true);
            return (t - mean) / (variance + 1e-5).Sqrt() * n.Weight! + n.Bias!;
        }
        Tensor Sa(Tensor t) => ReferenceMha(layer.SelfAttn, t, t, t);
        Tensor Ff(Tensor t) => Act(t.MatMul(layer.Linear1.Weight.MT) + layer.Linear1.Bias!).MatMul(layer.Linear2.Weight.MT) + layer.Linear2.Bias!;
        Tensor expected;
        using (Autograd.NoGrad())
        {
            if (normFirst)
            {
                var h = x + Sa(Norm(layer.Norm1, x));
                expected = h + Ff(Norm(layer.Norm2, h));
            }
            else
            {
                var h = Norm(layer.Norm1, x + Sa(x));
                expected = Norm(layer.Norm2, h + Ff(h));
            }
        }
        AssertClose(expected, layer.Forward(x), 1e-12, $"normFirst {normFirst}, {activation}");
    }

    [Fact]
    public void Decoder_layer_and_stacks_have_PyTorchs_state_dict_keys()
    {
        var decoder = new TransformerDecoderLayer(8, 2, 16);
        Assert.Equal(
        [
            "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
            "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias", "multihead_attn.out_proj.weight", "multihead_attn.out_proj.bias",
            "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
            "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias",
        ], decoder.StateDict().Keys);
        var encoder = new TransformerEncoder(_ => new TransformerEncoderLayer(8, 2, 16), 2, new LayerNorm(8));
        var keys = encoder.StateDict().Keys.ToList();
        Assert.Equal(2 * 12 + 2, keys.Count);
        Assert.Equal("layers.0.self_attn.in_proj_weight", keys[0]);
        Assert.Equal("layers.1.norm2.bias", keys[^3]);
        Assert.Equal(["norm.weight", "norm.bias"], keys[^2..]);
        var stack = new TransformerDecoder(_ => new TransformerDecoderLayer(8, 2, 16), 3);
        Assert.Equal(3 * 18, stack.StateDict().Count);
        Assert.Contains("layers.2.multihead_attn.out_proj.bias", stack.StateDict().Keys);
    }

    [Fact]
    public void Encoder_stack_runs_its_layers_in_order_then_the_norm()
    {
        var g = new Generator(41);
        var layers = Enumerable.Range(0, 2).Select(_ => new TransformerEncoderLayer(8, 2, 16, dropout: 0, normFirst: true, dtype: DType.Float64, generator: g)).ToList();
        var norm = new LayerNorm(8, dtype: DType.Float64);
        var stack = new TransformerEncoder(layers, norm);
        var x = Random(g, 4, 3, 8);
        var mask = Tensor.FromArray(new[] { false, false, true, false, false, false, false, false, false, false, false, true }, 3, 4);
        var expected = norm.Forward(layers[1].Forward(layers[0].Forward(x, null, mask, isCausal: true), null, mask, isCausal: true));
        AssertClose(expected, stack.Forward(x, null, mask, isCausal: true), 0, "stack");
    }

    [Fact]
    public void Through_a_causal_decoder_stack_output_t_ignores_later_targets()
    {
        var g = new Generator(43);
        var stack = new TransformerDecoder(_ => new TransformerDecoderLayer(8, 2, 16, dropout: 0, normFirst: true, batchFirst: true, generator: g), 2, new LayerNorm(8));
        var tgt = Tensor.Randn(new Shape(2, 5, 8), generator: g).SetRequiresGrad();
        var memory = Tensor.Randn(new Shape(2, 6, 8), generator: g);
        const int T = 2;
        stack.Forward(tgt, memory, tgtIsCausal: true).Select(1, T).Sum().Backward();
        var grad = tgt.Grad!.ToArray<float>();
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 5; t++)
            {
                var row = grad.Skip((b * 5 + t) * 8).Take(8).ToArray();
                if (t > T) Assert.All(row, x => Assert.Equal(0f, x));
                else Assert.Contains(row, x => x != 0);
            }
    }

    [Fact]
    public void TransformerDecoderLayer_equals_its_composition()
    {
        var g = new Generator(45);
        var layer = new TransformerDecoderLayer(8, 2, 12, dropout: 0, dtype: DType.Float64, generator: g);
        var tgt = Random(g, 4, 2, 8);
        var memory = Random(g, 5, 2, 8);
        var noGrad = Autograd.NoGrad();
        var h = layer.Norm1.Forward(tgt + ReferenceMha(layer.SelfAttn, tgt, tgt, tgt, causal: true));
        h = layer.Norm2.Forward(h + ReferenceMha(layer.MultiheadAttn, h, memory, memory));
        var expected = layer.Norm3.Forward(h + layer.Linear2.Forward(layer.Linear1.Forward(h).Relu()));
        noGrad.Dispose();
        AssertClose(expected, layer.Forward(tgt, memory, tgtIsCausal: true), 1e-12, "decoder layer");
    }

    [Fact]
    public void The_readme_tour_runs_with_the_shapes_it_states()
    {
        // The code of the README's "Attention and Transformers" section.
        var q = Tensor.Randn(2, 4, 10, 16);
        var k = Tensor.Randn(2, 4, 12, 16);
        var v = Tensor.Randn(2, 4, 12, 16);
        var y = Functional.ScaledDotProductAttention(q, k, v, isCausal: true);
        var mha = new MultiheadAttention(embedDim: 64, numHeads: 4, batchFirst: true);
        var x = Tensor.Randn(8, 20, 64);
        var padding = Tensor.Zeros(new Shape(8, 20), DType.Bool);
        var (output, weights) = mha.Forward(x, x, x, keyPaddingMask: padding);
        var encoder = new TransformerEncoder(_ => new TransformerEncoderLayer(64, 4, dimFeedforward: 256, normFirst: true,
            activation: TransformerActivation.GeluTanh, batchFirst: true), numLayers: 2, norm: new LayerNorm(64));
        var encoded = encoder.Forward(x, mask: null, srcKeyPaddingMask: padding, isCausal: true);
        Assert.Equal([2, 4, 10, 16], y.Sizes);
        Assert.Equal([8, 20, 64], output.Sizes);
        Assert.Equal([8, 20, 20], weights!.Sizes);
        Assert.Equal([8, 20, 64], encoded.Sizes);
        Assert.All(encoded.ToArray<float>(), e => Assert.True(float.IsFinite(e)));
    }

    /// <summary>Gradcheck rows for the layers, float64, each module built from a fixed seed so every evaluation is the same function.</summary>
    public static IEnumerable<GradcheckCase> LayerCases =>
    [
        new("MultiheadAttention self-attention", x => new MultiheadAttention(4, 2, dtype: DType.Float64, generator: new Generator(1))
            .Forward(x[0], x[0], x[0], needWeights: false).Output, [3, 2, 4]),
        new("MultiheadAttention weights per head", x => new MultiheadAttention(4, 2, dtype: DType.Float64, generator: new Generator(1))
            .Forward(x[0], x[1], x[1], averageAttnWeights: false).Weights!, [3, 2, 4], [2, 2, 4]),
        new("MultiheadAttention kdim/vdim, padding, causal, batch first", x => new MultiheadAttention(4, 2, kdim: 3, vdim: 5, batchFirst: true,
                dtype: DType.Float64, generator: new Generator(2))
            .Forward(x[0], x[1], x[2], Tensor.FromArray(new[] { false, true, false, false, false, false }, 2, 3), needWeights: false, isCausal: true).Output,
            [2, 3, 4], [2, 3, 3], [2, 3, 5]),
        new("TransformerEncoderLayer post-norm ReLU", x => new TransformerEncoderLayer(4, 2, 6, dropout: 0, dtype: DType.Float64, generator: new Generator(3))
            .Forward(x[0]), GradcheckInput.NonZero(3, 2, 4)),
        new("TransformerEncoderLayer pre-norm GELU tanh, causal", x => new TransformerEncoderLayer(4, 2, 6, dropout: 0, activation: TransformerActivation.GeluTanh,
                normFirst: true, batchFirst: true, dtype: DType.Float64, generator: new Generator(4))
            .Forward(x[0], null, isCausal: true), [2, 3, 4]),
        new("TransformerDecoderLayer pre-norm GELU, causal, memory padding", x => new TransformerDecoderLayer(4, 2, 6, dropout: 0, activation: TransformerActivation.Gelu,
                normFirst: true, dtype: DType.Float64, generator: new Generator(5))
            .Forward(x[0], x[1], memoryKeyPaddingMask: Tensor.FromArray(new[] { false, false, true, false, false, false }, 2, 3), tgtIsCausal: true), [3, 2, 4], [3, 2, 4]),
    ];

    public static TheoryData<string> LayerCaseNames()
    {
        var data = new TheoryData<string>();
        foreach (var c in LayerCases) data.Add(c.Name);
        return data;
    }

    [Theory]
    [MemberData(nameof(LayerCaseNames))]
    public void Layer_gradients_match_finite_differences(string name)
    {
        var testCase = LayerCases.Single(c => c.Name == name);
        var first = Gradcheck.Run(testCase, seed: 3);
        Assert.True(first.Passed, $"{name}: {first}");
        var second = Gradgradcheck.Run(testCase, seed: 3);
        Assert.True(second.Passed, $"{name} (second order): {second}");
    }
}
