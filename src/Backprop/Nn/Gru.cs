namespace Backprop.Nn;

/// <summary>
/// Gated recurrent unit, as <c>torch.nn.GRU</c>: r, z = σ(x·W_iᵀ + b_i + h·W_hᵀ + b_h),
/// n = tanh(x·W_inᵀ + b_in + r∘(h·W_hnᵀ + b_hn)), h_t = (1 − z)∘n + z∘h_{t−1}. See <see cref="RecurrentLayer"/> for
/// shapes, names and variable lengths.
/// </summary>
public sealed class Gru(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false,
    double dropout = 0, bool bidirectional = false, DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    : RecurrentLayer(3, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, 0, dtype, generator, device)
{
    private protected override Ops.RecurrentCellKind CellKind => Ops.RecurrentCellKind.Gru;
}
