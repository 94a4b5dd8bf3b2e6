namespace Backprop.Nn;

/// <summary>
/// Elman RNN, as <c>torch.nn.RNN</c>: h_t = act(x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh), act tanh or ReLU, stacked
/// <paramref name="numLayers"/> deep. See <see cref="RecurrentLayer"/> for shapes, names and variable lengths.
/// </summary>
public sealed class Rnn(int inputSize, int hiddenSize, int numLayers = 1, RnnNonlinearity nonlinearity = RnnNonlinearity.Tanh,
    bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false, DType dtype = DType.Float32,
    Generator? generator = null, Device? device = null)
    : RecurrentLayer(1, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 0, dtype, generator, device)
{
    public RnnNonlinearity Nonlinearity { get; } = nonlinearity;

    private protected override Ops.RecurrentCellKind CellKind =>
        Nonlinearity == RnnNonlinearity.Tanh ? Ops.RecurrentCellKind.RnnTanh : Ops.RecurrentCellKind.RnnRelu;

    protected override string ExtraDescription => base.ExtraDescription + $", nonlinearity: {Nonlinearity}";
}
