namespace Backprop;

public partial interface IBackend
{
    /// <summary>
    /// Standardises each row of the contiguous <paramref name="x"/> [rows, n] (the last dim, or several trailing dims
    /// flattened): μ and σ² (biased) per row, r = (σ² + ε)^−½, and x̂ = (x − μ)·r. The sums are accumulated in float64
    /// in the fixed order of <see cref="Reduce"/>, so nothing depends on SIMD width or thread count. All outputs are
    /// contiguous: <paramref name="normalized"/> of x's shape, the three statistics with one element per row.
    /// </summary>
    void NormalizeRows(StridedView x, double eps, StridedView normalized, StridedView mean, StridedView variance, StridedView inverseStd);

    /// <summary>
    /// The backward of <see cref="NormalizeRows"/>, row by row: ∂x = r·(g − mean(g) − x̂·mean(g ⊙ x̂)), the means over
    /// the row and accumulated in float64 in a fixed order. All operands are contiguous; <paramref name="gradInput"/>
    /// may be <paramref name="grad"/> itself.
    /// </summary>
    void NormalizeRowsBackward(StridedView grad, StridedView normalized, StridedView inverseStd, StridedView gradInput);
}
