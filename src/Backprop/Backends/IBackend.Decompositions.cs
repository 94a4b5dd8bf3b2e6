namespace Backprop;

/// <summary>
/// Matrix decompositions. Every kernel takes a batch of matrices [..., M, N] (its outputs have the same batch dims),
/// reads any strides, and computes in float64 whatever the storage dtype, so float32 results are the float64 ones
/// rounded once. A kernel that can fail on some matrices (a singular or non-positive-definite one) still writes every
/// output and returns the index, in row-major batch order, of the first matrix that failed, or −1.
/// </summary>
public partial interface IBackend
{
    /// <summary>x = a⁻¹·b for a [..., N, N] and b, x [..., N, K], by LU factorisation with partial pivoting. Returns the first singular matrix (its x is NaN) or −1.</summary>
    int Solve(StridedView a, StridedView b, StridedView x);

    /// <summary>det(a) [...] for a [..., N, N], the signed product of the LU pivots (exactly 0 when a pivot is).</summary>
    void Determinant(StridedView a, StridedView det);

    /// <summary>sign(det a) and log|det a| [...] for a [..., N, N]; a singular matrix gives sign 0 and log|det| −∞.</summary>
    void LogDeterminant(StridedView a, StridedView sign, StridedView logAbsDet);

    /// <summary>
    /// The lower-triangular l [..., N, N] with l·lᵀ = a, reading only the lower triangle of a. Returns the first matrix
    /// that is not positive-definite (its l is NaN) or −1.
    /// </summary>
    int Cholesky(StridedView a, StridedView l);

    /// <summary>
    /// a = q·r by Householder reflections (LAPACK's sign convention) for a [..., M, N]: q [..., M, P] with orthonormal
    /// columns and upper-triangular r [..., P, N], where P is min(M, N) (reduced) or M (complete).
    /// </summary>
    void Qr(StridedView a, StridedView q, StridedView r);

    /// <summary>
    /// a = u·diag(s)·vh by one-sided Jacobi rotations for a [..., M, N]: s [..., K] descending and non-negative,
    /// K = min(M, N); u [..., M, K] and vh [..., K, N], or u [..., M, M] and vh [..., N, N] for the full matrices.
    /// </summary>
    void Svd(StridedView a, StridedView u, StridedView s, StridedView vh);

    /// <summary>
    /// The eigenvalues w [..., N] (ascending) and orthonormal eigenvectors v [..., N, N] (columns) of the symmetric
    /// matrix whose lower triangle is that of a [..., N, N], by cyclic Jacobi rotations.
    /// </summary>
    void Eigh(StridedView a, StridedView w, StridedView v);
}
