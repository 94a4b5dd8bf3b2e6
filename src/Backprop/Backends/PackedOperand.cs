namespace Backprop;

/// <summary>
/// The right operand of a matrix product, copied once into the layout a backend's GEMM reads (see
/// <see cref="IBackend.PackMatMulRight"/>), so a loop that multiplies by the same matrix many times, such as a
/// recurrent layer's W_hh at every time step, pays for the copy once. It holds a snapshot: writing to the source
/// matrix afterwards does not change it.
/// </summary>
public abstract class PackedOperand
{
    private protected PackedOperand(int rows, int columns, DType dtype) => (Rows, Columns, DType) = (rows, columns, dtype);

    /// <summary>K: the rows of the packed matrix.</summary>
    public int Rows { get; }

    /// <summary>N: the columns of the packed matrix.</summary>
    public int Columns { get; }

    public DType DType { get; }
}
