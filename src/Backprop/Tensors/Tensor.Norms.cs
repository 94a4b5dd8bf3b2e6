using Backprop.Ops;

namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// The vector <paramref name="p"/>-norm over <paramref name="dims"/> (all when null), as torch.linalg.vector_norm:
    /// (Σ|x|ᵖ)^(1/p) for any real p; p = 0 counts the nonzero elements, p = ∞ and −∞ give the largest and smallest
    /// |x|. The gradient at a zero norm is 0 for p ≥ 1, as PyTorch's.
    /// </summary>
    public Tensor Norm(double p, int[]? dims = null, bool keepDim = false) =>
        NormOp.Apply(this, p, ReducedMask(dims ?? [], dims is null, "Norm"), keepDim);

    /// <summary>The vector <paramref name="p"/>-norm along one dim; see <see cref="Norm(double, int[], bool)"/>.</summary>
    public Tensor Norm(double p, int dim, bool keepDim = false) => Norm(p, [dim], keepDim);

    /// <summary>The <paramref name="p"/>-norm of this − <paramref name="other"/> (broadcast), as torch.dist.</summary>
    public Tensor Dist(Tensor other, double p = 2) => Dist(this, other, p);

    /// <summary>The <paramref name="p"/>-norm of <paramref name="a"/> − <paramref name="b"/> over all elements (they broadcast), as torch.dist.</summary>
    public static Tensor Dist(Tensor a, Tensor b, double p = 2) => (a - b).Norm(p);

    /// <summary>
    /// Pairwise distances (torch.cdist): for x1 of shape [..., P, M] and x2 of shape [..., R, M], the [..., P, R]
    /// <paramref name="p"/>-norms of every row difference, the batch dims broadcasting. p must be ≥ 0; the p = 2
    /// gradient at a zero distance is 0.
    /// </summary>
    public static Tensor CDist(Tensor x1, Tensor x2, double p = 2)
    {
        if (x1.Rank < 2 || x2.Rank < 2)
            throw new ShapeMismatchException("CDist", $"both inputs need at least 2 dims ([..., rows, features]); got {x1.Shape} and {x2.Shape}");
        if (x1.Sizes[^1] != x2.Sizes[^1])
            throw new ShapeMismatchException("CDist", $"x1 {x1.Shape} and x2 {x2.Shape} must have the same number of features (last dim)");
        if (!(p >= 0)) throw new ArgumentException($"CDist: p must be a non-negative number; got {p}.");
        return (x1.Unsqueeze(-2) - x2.Unsqueeze(-3)).Norm(p, [-1]);
    }
}
