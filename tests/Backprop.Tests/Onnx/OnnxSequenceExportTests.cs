using Backprop.Nn;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Tests.Onnx;

/// <summary>
/// The recurrent layers and the Transformer encoder exported to ONNX run in ONNX Runtime and agree with the library,
/// on a batch size other than the sample's.
/// </summary>
public class OnnxSequenceExportTests
{
    private const double Tolerance = 1e-5;

    private static Dictionary<string, float[]> RunInOnnxRuntime(byte[] model, Tensor input)
    {
        using var session = new InferenceSession(model);
        int[] dims = [.. Enumerable.Range(0, input.Rank).Select(d => input.Size(d))];
        var value = NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(input.Contiguous().ToArray<float>(), dims));
        using var results = session.Run([value]);
        return results.ToDictionary(r => r.Name, r => r.AsTensor<float>().ToArray());
    }

    private static void AssertClose(Tensor expected, float[] actual, string what)
    {
        var values = expected.Contiguous().ToArray<float>();
        Assert.Equal(values.Length, actual.Length);
        for (int i = 0; i < values.Length; i++)
            Assert.True(Math.Abs(actual[i] - values[i]) <= Tolerance * Math.Max(1, Math.Abs(values[i])),
                $"{what} element {i}: ONNX Runtime {actual[i]}, Backprop {values[i]}");
    }

    private static void AssertRecurrentAgrees(RecurrentLayer layer, Tensor sample, Tensor input)
    {
        var bytes = Backprop.Onnx.ToBytes(layer, sample);
        layer.Eval();
        Tensor output;
        RecurrentState state;
        using (Autograd.NoGrad()) (output, state) = layer.Forward(input);
        var actual = RunInOnnxRuntime(bytes, input);
        AssertClose(output, actual["output"], "output");
        AssertClose(state.Hidden, actual["hidden"], "hidden");
        if (state.Cell is { } cell) AssertClose(cell, actual["cell"], "cell");
        else Assert.False(actual.ContainsKey("cell"));
    }

    private static Tensor Sequence(int time, int batch, int features, bool batchFirst, Generator g) =>
        batchFirst ? Tensor.Randn([batch, time, features], generator: g) : Tensor.Randn([time, batch, features], generator: g);

    [Theory]
    [InlineData(false, 1, false)]
    [InlineData(true, 2, false)]
    [InlineData(true, 2, true)]
    public void LstmAgreesWithOnnxRuntime(bool bidirectional, int layers, bool batchFirst)
    {
        var g = new Generator(11);
        var lstm = new Lstm(5, 7, layers, batchFirst: batchFirst, dropout: 0.3, bidirectional: bidirectional, generator: g);
        AssertRecurrentAgrees(lstm, Sequence(6, 2, 5, batchFirst, g), Sequence(6, 3, 5, batchFirst, g));
    }

    [Theory]
    [InlineData(false, 1, false)]
    [InlineData(true, 2, false)]
    [InlineData(false, 2, true)]
    public void GruAgreesWithOnnxRuntime(bool bidirectional, int layers, bool batchFirst)
    {
        var g = new Generator(12);
        var gru = new Gru(4, 6, layers, batchFirst: batchFirst, bidirectional: bidirectional, generator: g);
        AssertRecurrentAgrees(gru, Sequence(5, 1, 4, batchFirst, g), Sequence(5, 4, 4, batchFirst, g));
    }

    [Theory]
    [InlineData(RnnNonlinearity.Tanh, true, true)]
    [InlineData(RnnNonlinearity.Tanh, false, false)]
    [InlineData(RnnNonlinearity.Relu, true, false)]
    public void RnnAgreesWithOnnxRuntime(RnnNonlinearity nonlinearity, bool bidirectional, bool bias)
    {
        var g = new Generator(13);
        var rnn = new Rnn(3, 5, 2, nonlinearity, bias: bias, bidirectional: bidirectional, generator: g);
        AssertRecurrentAgrees(rnn, Sequence(4, 2, 3, false, g), Sequence(4, 5, 3, false, g));
    }

    [Fact]
    public void LstmWithProjectionFailsNamingIt()
    {
        var lstm = new Lstm(4, 6, projSize: 3);
        var error = Assert.Throws<OnnxExportException>(() => Backprop.Onnx.ToBytes(lstm, Tensor.Zeros([3, 1, 4])));
        Assert.Contains("Lstm", error.Message);
        Assert.Contains("projSize", error.Message);
    }

    private static void AssertEncoderAgrees(Module<Tensor, Tensor> model, Func<Tensor, Tensor> forward, Tensor sample, Tensor input, bool causal)
    {
        var bytes = Backprop.Onnx.ToBytes(model, sample, causalAttention: causal);
        model.Eval();
        Tensor expected;
        using (Autograd.NoGrad()) expected = forward(input);
        AssertClose(expected, RunInOnnxRuntime(bytes, input)["output"], "output");
    }

    [Theory]
    [InlineData(false, false, TransformerActivation.Relu)]
    [InlineData(true, false, TransformerActivation.Gelu)]
    [InlineData(false, true, TransformerActivation.GeluTanh)]
    [InlineData(true, true, TransformerActivation.Relu)]
    public void EncoderLayerAgreesWithOnnxRuntime(bool normFirst, bool batchFirst, TransformerActivation activation)
    {
        var g = new Generator(14);
        var layer = new TransformerEncoderLayer(8, 2, dimFeedforward: 16, dropout: 0.2, activation: activation, batchFirst: batchFirst,
            normFirst: normFirst, generator: g);
        // Biases and norm weights away from their initial zeros and ones, so a misplaced one shows.
        using (Autograd.NoGrad())
            foreach (var parameter in layer.Parameters()) parameter.AddInPlace(Tensor.Randn(parameter.Sizes, generator: g) * 0.1);
        AssertEncoderAgrees(layer, x => layer.Forward(x), Sequence(5, 2, 8, batchFirst, g), Sequence(5, 3, 8, batchFirst, g), causal: false);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TwoLayerEncoderAgreesWithOnnxRuntime(bool causal)
    {
        var g = new Generator(15);
        var encoder = new TransformerEncoder(i => new TransformerEncoderLayer(8, 4, dimFeedforward: 12, normFirst: i == 1, generator: g), 2,
            new LayerNorm(8));
        AssertEncoderAgrees(encoder, x => encoder.Forward(x, null, isCausal: causal), Sequence(6, 1, 8, false, g),
            Sequence(6, 3, 8, false, g), causal);
    }

    [Fact]
    public void EncoderInSequentialAgreesWithOnnxRuntime()
    {
        var g = new Generator(16);
        var model = new Sequential(new Linear(3, 8, generator: g),
            new TransformerEncoderLayer(8, 2, dimFeedforward: 16, batchFirst: true, generator: g), new Flatten(), new Linear(4 * 8, 2, generator: g));
        AssertEncoderAgrees(model, x => model.Forward(x), Tensor.Randn([2, 4, 3], generator: g), Tensor.Randn([5, 4, 3], generator: g), causal: false);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void SelfAttentionAgreesWithOnnxRuntime(bool batchFirst, bool causal)
    {
        var g = new Generator(17);
        var attention = new MultiheadAttention(8, 2, batchFirst: batchFirst, generator: g);
        using (Autograd.NoGrad())
            foreach (var parameter in attention.Parameters()) parameter.AddInPlace(Tensor.Randn(parameter.Sizes, generator: g) * 0.1);
        var input = Sequence(5, 4, 8, batchFirst, g);
        var bytes = Backprop.Onnx.ToBytes(attention, Sequence(5, 2, 8, batchFirst, g), causalAttention: causal);
        Tensor expected;
        using (Autograd.NoGrad()) expected = attention.Forward(input, input, input, needWeights: false, isCausal: causal).Output;
        AssertClose(expected, RunInOnnxRuntime(bytes, input)["output"], "output");
    }

    [Fact]
    public void SequenceFirstEncoderAfterEmbeddingKeepsTheBatchSymbolic()
    {
        var g = new Generator(18);
        var model = new Sequential(new Embedding(10, 8, generator: g), new TransformerEncoderLayer(8, 2, dimFeedforward: 16, generator: g),
            new Linear(8, 3, generator: g));
        var bytes = Backprop.Onnx.ToBytes(model, Tensor.RandInt(0, 10, [6, 2], generator: g));
        var input = Tensor.RandInt(0, 10, [6, 5], generator: g);
        model.Eval();
        Tensor expected;
        using (Autograd.NoGrad()) expected = model.Forward(input);
        using var session = new InferenceSession(bytes);
        Assert.Equal("batch", session.InputMetadata["input"].SymbolicDimensions[1]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(input.ToArray<long>(), [6, 5]))]);
        AssertClose(expected, results.Single(r => r.Name == "output").AsTensor<float>().ToArray(), "output");
    }

    [Fact]
    public void EncoderLayerWithoutBatchFailsNamingIt()
    {
        var layer = new TransformerEncoderLayer(8, 2, dimFeedforward: 16, batchFirst: true);
        var error = Assert.Throws<OnnxExportException>(() => Backprop.Onnx.ToBytes(new Sequential(layer), Tensor.Zeros([5, 8])));
        Assert.Contains("TransformerEncoderLayer", error.Message);
    }
}
