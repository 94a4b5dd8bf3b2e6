namespace Backprop.Nn;

/// <summary>
/// Long short-term memory, as <c>torch.nn.LSTM</c>: gates i, f, g, o from x_t·W_ihᵀ + b_ih + h_{t−1}·W_hhᵀ + b_hh;
/// c_t = f∘c_{t−1} + i∘g, h_t = o∘tanh(c_t), then h_t·W_hrᵀ when <paramref name="projSize"/> &gt; 0. The state
/// carries both h and c. See <see cref="RecurrentLayer"/> for shapes, names and variable lengths.
/// </summary>
public sealed class Lstm(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false,
    double dropout = 0, bool bidirectional = false, int projSize = 0, DType dtype = DType.Float32, Generator? generator = null,
    Device? device = null)
    : RecurrentLayer(4, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, projSize, dtype, generator, device)
{
    private protected override Ops.RecurrentCellKind CellKind => Ops.RecurrentCellKind.Lstm;
}
