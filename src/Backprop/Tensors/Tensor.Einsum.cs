namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// Einstein summation (torch.einsum): "ij,jk->ik" multiplies matrices, "bij,bjk->bik" batches, "i,j->ij" is an
    /// outer product, "ii->" a trace, "ii->i" a diagonal, "...ij->...ji" transposes any batch. Without "->" the
    /// output is the ellipsis dims, then the subscripts used once, in alphabetical order. Subscripts of size 1
    /// broadcast. Contractions run as batched GEMMs; the result is differentiable in every operand.
    /// </summary>
    public static Tensor Einsum(string equation, params Tensor[] operands) => Ops.Einsum.Evaluate(equation, operands);
}
