using Backprop.Nn;

namespace Backprop.Tests.Nn;

/// <summary>
/// h_t = tanh(x_t·W_ihᵀ + h_{t−1}·W_hhᵀ + b) written with primitive ops, one layer: a recurrent module for testing what is
/// built on <see cref="IRecurrentModule"/> (truncated BPTT, gradients through time) independently of the library's layers.
/// Input [time, batch, inputSize], or [batch, time, inputSize] with <paramref name="batchFirst"/>.
/// </summary>
internal sealed class SmallTanhRnn : Module, IRecurrentModule
{
    public SmallTanhRnn(int inputSize, int hiddenSize, ulong seed, DType dtype = DType.Float64, bool batchFirst = false)
    {
        var generator = new Generator(seed);
        // Recurrent weights of spectral radius near 0.9, so gradients neither vanish nor explode over a few dozen steps.
        WeightIh = new Parameter(Tensor.Randn([hiddenSize, inputSize], dtype, generator) * (1.0 / Math.Sqrt(inputSize)));
        WeightHh = new Parameter(Tensor.Randn([hiddenSize, hiddenSize], dtype, generator) * (0.9 / Math.Sqrt(hiddenSize)));
        Bias = new Parameter(Tensor.Randn([hiddenSize], dtype, generator) * 0.1);
        HiddenSize = hiddenSize;
        BatchFirst = batchFirst;
    }

    public Parameter WeightIh { get; }

    public Parameter WeightHh { get; }

    public Parameter Bias { get; }

    public int HiddenSize { get; }

    public bool BatchFirst { get; }

    /// <summary>Called with (t, h_t) for every step, as the library's layers do.</summary>
    public Action<int, Tensor>? StepObserver { get; set; }

    /// <summary>One step from [batch, inputSize] and [batch, hidden].</summary>
    public Tensor Step(Tensor x, Tensor h) => (x.MatMul(WeightIh.T) + h.MatMul(WeightHh.T) + Bias).Tanh();

    public (Tensor Output, RecurrentState State) Forward(Tensor input, RecurrentState? state = null)
    {
        var sequence = BatchFirst ? input.Transpose(0, 1) : input;
        var h = state?.Hidden.Select(0, 0) ?? Tensor.Zeros([sequence.Size(1), HiddenSize], input.DType);
        var outputs = new List<Tensor>();
        for (int t = 0; t < sequence.Size(0); t++)
        {
            h = Step(sequence.Select(0, t), h);
            StepObserver?.Invoke(t, h);
            outputs.Add(h);
        }
        var output = Tensor.Stack(outputs, 0);
        return (BatchFirst ? output.Transpose(0, 1) : output, new RecurrentState(h.Unsqueeze(0)));
    }
}
