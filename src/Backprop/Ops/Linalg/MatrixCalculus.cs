namespace Backprop.Ops;

/// <summary>Pieces the decompositions' backward formulas share, written with differentiable ops so they can be differentiated again.</summary>
internal static class MatrixCalculus
{
    /// <summary>Z·R⁻ᵀ, as (R⁻¹·Zᵀ)ᵀ: one solve, no explicit inverse.</summary>
    public static Tensor TimesInverseTransposed(Tensor z, Tensor r, string op) => SolveOp.Apply(r, z.MT, op).MT;

    /// <summary>
    /// F with F_ij = 1/(λ_j − λ_i) off the diagonal and 0 on it, for λ [..., N]: the spectral gap factors of the
    /// eigenvector and singular-vector derivatives. The diagonal of the differences is exactly 0; adding I there
    /// before dividing keeps it finite, so no NaN reaches a second derivative through the masked entries.
    /// </summary>
    public static Tensor GapReciprocals(Tensor lambda)
    {
        int n = lambda.Sizes[^1];
        var identity = Tensor.Eye(n, lambda.DType, lambda.Device);
        var gaps = lambda.Unsqueeze(-2) - lambda.Unsqueeze(-1);
        return (1.0 - identity) / (gaps + identity);
    }

    /// <summary>X − Xᵀ over the last two dims.</summary>
    public static Tensor Skew(Tensor x) => x - x.MT;
}
