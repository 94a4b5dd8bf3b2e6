using Backprop.Ops;

namespace Backprop;

/// <summary>What <see cref="Linalg.Qr"/> returns (torch.linalg.qr's mode).</summary>
public enum QrMode
{
    /// <summary>Q [..., M, K] and R [..., K, N] with K = min(M, N).</summary>
    Reduced,
    /// <summary>Q [..., M, M] and R [..., M, N].</summary>
    Complete,
    /// <summary>Only R [..., K, N]; Q is returned empty (its gradient path is kept internally).</summary>
    R,
}

/// <summary>A matrix the operation is not defined for: singular where an inverse is needed, or not positive-definite.</summary>
public sealed class LinalgException(string message) : ArithmeticException(message);

/// <summary>
/// Linear algebra on batches of matrices [..., M, N], named and behaving as torch.linalg. Every function takes
/// float32 or float64 (computed in float64 either way) and is differentiable; see Note [Linear algebra] in
/// docs/architecture.md for the algorithms and where the gradients are not defined.
/// </summary>
public static class Linalg
{
    /// <summary>
    /// X with A·X = B (torch.linalg.solve). A is [..., N, N]; B is [..., N, K], or a batch of vectors [..., N] when it
    /// has one dim fewer than A (or is 1-D). Batch dims broadcast.
    /// </summary>
    public static Tensor Solve(Tensor a, Tensor b)
    {
        CheckSquare("Solve", a);
        if (b.DType != a.DType)
        {
            var dtype = DTypes.Promote(a.DType, b.DType);
            (a, b) = (a.To(dtype), b.To(dtype));
        }
        bool vector = b.Rank == 1 || (b.Rank == a.Rank - 1 && b.Sizes.AsSpan().SequenceEqual(a.Sizes.AsSpan(0, a.Rank - 1)));
        var matrix = vector ? b.Unsqueeze(-1) : b;
        if (matrix.Rank < 2 || matrix.Sizes[^2] != a.Sizes[^1])
            throw new ShapeMismatchException("Solve", $"B {b.Shape} does not match A {a.Shape} (expected [..., {a.Sizes[^1]}, K] or [..., {a.Sizes[^1]}])");
        var batch = Shape.Broadcast(Shape.Wrap(a.Sizes[..^2]), Shape.Wrap(matrix.Sizes[..^2]), "Solve").Dims;
        var x = SolveOp.Apply(a.ExpandTo([.. batch, .. a.Sizes[^2..]]), matrix.ExpandTo([.. batch, .. matrix.Sizes[^2..]]), "Solve");
        return vector ? x.Squeeze(-1) : x;
    }

    /// <summary>A⁻¹ for A [..., N, N] (torch.linalg.inv); a singular matrix throws <see cref="LinalgException"/>.</summary>
    public static Tensor Inv(Tensor a)
    {
        CheckSquare("Inv", a);
        return InvOp.Apply(a);
    }

    /// <summary>det A [...] for A [..., N, N] (torch.linalg.det); exactly 0 when elimination meets a zero pivot column.</summary>
    public static Tensor Det(Tensor a)
    {
        CheckSquare("Det", a);
        return DetOp.Apply(a);
    }

    /// <summary>
    /// sign(det A) and log|det A| [...] (torch.linalg.slogdet): accurate where det itself would overflow or underflow.
    /// A singular matrix gives sign 0 and log|det| −∞. Only log|det| carries a gradient.
    /// </summary>
    public static (Tensor Sign, Tensor LogAbsDet) Slogdet(Tensor a)
    {
        CheckSquare("Slogdet", a);
        return SlogdetOp.Apply(a);
    }

    /// <summary>
    /// L lower-triangular with L·Lᵀ = A (torch.linalg.cholesky), reading only A's lower triangle; with
    /// <paramref name="upper"/>, U = Lᵀ with Uᵀ·U = A, reading only the upper triangle. A matrix that is not
    /// positive-definite throws <see cref="LinalgException"/>.
    /// </summary>
    public static Tensor Cholesky(Tensor a, bool upper = false)
    {
        CheckSquare("Cholesky", a);
        return upper ? CholeskyOp.Apply(a.MT).MT : CholeskyOp.Apply(a);
    }

    /// <summary>A = Q·R with Q's columns orthonormal and R upper-triangular (torch.linalg.qr), by Householder reflections.</summary>
    public static (Tensor Q, Tensor R) Qr(Tensor a, QrMode mode = QrMode.Reduced)
    {
        CheckMatrices("Qr", a);
        return QrOp.Apply(a, mode);
    }

    /// <summary>
    /// A = U·diag(S)·Vh with S [..., K] descending and non-negative, K = min(M, N) (torch.linalg.svd): U [..., M, M] and
    /// Vh [..., N, N] with <paramref name="fullMatrices"/>, else U [..., M, K] and Vh [..., K, N].
    /// </summary>
    public static (Tensor U, Tensor S, Tensor Vh) Svd(Tensor a, bool fullMatrices = true)
    {
        CheckMatrices("Svd", a);
        return SvdOp.Apply(a, fullMatrices);
    }

    /// <summary>The singular values [..., K], descending (torch.linalg.svdvals).</summary>
    public static Tensor Svdvals(Tensor a) => Svd(a, fullMatrices: false).S;

    /// <summary>
    /// Eigenvalues [..., N] in ascending order and orthonormal eigenvectors [..., N, N] (as columns) of the symmetric
    /// matrices A (torch.linalg.eigh), reading only the triangle <paramref name="uplo"/> ("L" or "U") of A.
    /// </summary>
    public static (Tensor Eigenvalues, Tensor Eigenvectors) Eigh(Tensor a, string uplo = "L")
    {
        CheckSquare("Eigh", a);
        return EighOp.Apply(ReadTriangle("Eigh", a, uplo));
    }

    /// <summary>The eigenvalues [..., N] of symmetric A in ascending order (torch.linalg.eigvalsh).</summary>
    public static Tensor Eigvalsh(Tensor a, string uplo = "L") => Eigh(a, uplo).Eigenvalues;

    /// <summary>
    /// The least-squares solution X of A·X ≈ B (torch.linalg.lstsq(A, B).solution) for A [..., M, N] of full rank and
    /// B [..., M, K]: the X minimising ‖A·X − B‖ when M ≥ N, the minimum-norm solution when M &lt; N. Computed by QR
    /// (never the normal equations, which square the condition number); rank-deficient A throws.
    /// </summary>
    public static Tensor Lstsq(Tensor a, Tensor b)
    {
        CheckMatrices("Lstsq", a);
        if (b.DType != a.DType)
        {
            var dtype = DTypes.Promote(a.DType, b.DType);
            (a, b) = (a.To(dtype), b.To(dtype));
        }
        bool vector = b.Rank == a.Rank - 1;
        var matrix = vector ? b.Unsqueeze(-1) : b;
        if (matrix.Rank < 2 || matrix.Sizes[^2] != a.Sizes[^2])
            throw new ShapeMismatchException("Lstsq", $"B {b.Shape} does not match A {a.Shape} (expected [..., {a.Sizes[^2]}, K] or [..., {a.Sizes[^2]}])");
        var batch = Shape.Broadcast(Shape.Wrap(a.Sizes[..^2]), Shape.Wrap(matrix.Sizes[..^2]), "Lstsq").Dims;
        a = a.ExpandTo([.. batch, .. a.Sizes[^2..]]);
        matrix = matrix.ExpandTo([.. batch, .. matrix.Sizes[^2..]]);
        Tensor x;
        if (a.Sizes[^2] >= a.Sizes[^1])
        {
            // A = Q·R: X = R⁻¹·Qᵀ·B.
            var (q, r) = QrOp.Apply(a, QrMode.Reduced);
            x = SolveOp.Apply(r, q.MT.MatMul(matrix), "Lstsq");
        }
        else
        {
            // Aᵀ = Q·R, so A = Rᵀ·Qᵀ and the minimum-norm solution is Q·R⁻ᵀ·B.
            var (q, r) = QrOp.Apply(a.MT, QrMode.Reduced);
            x = q.MatMul(SolveOp.Apply(r.MT, matrix, "Lstsq"));
        }
        return vector ? x.Squeeze(-1) : x;
    }

    /// <summary>
    /// A matrix norm over the last two dims (torch.linalg.matrix_norm): "fro" (Frobenius, the default) or "nuc"
    /// (nuclear: the sum of the singular values).
    /// </summary>
    public static Tensor MatrixNorm(Tensor a, string ord = "fro", bool keepDim = false)
    {
        CheckMatrices("MatrixNorm", a);
        var norm = ord switch
        {
            "fro" => a.Square().Sum([-2, -1]).Sqrt(),
            "nuc" => Svdvals(a).Sum(-1),
            _ => throw new ArgumentException($"MatrixNorm: ord must be \"fro\", \"nuc\" or a number (±1, ±2, ±∞); got \"{ord}\"."),
        };
        return keepDim ? norm.Unsqueeze(-1).Unsqueeze(-1) : norm;
    }

    /// <summary>
    /// A matrix norm over the last two dims by number (torch.linalg.matrix_norm): 1 / −1 the largest / smallest
    /// column sum of |A|, ∞ / −∞ the largest / smallest row sum, 2 / −2 the largest / smallest singular value.
    /// </summary>
    public static Tensor MatrixNorm(Tensor a, double ord, bool keepDim = false)
    {
        CheckMatrices("MatrixNorm", a);
        var norm = ord switch
        {
            1 => a.Abs().Sum(-2).Max(-1),
            -1 => a.Abs().Sum(-2).Min(-1),
            double.PositiveInfinity => a.Abs().Sum(-1).Max(-1),
            double.NegativeInfinity => a.Abs().Sum(-1).Min(-1),
            2 => Svdvals(a).Max(-1),
            -2 => Svdvals(a).Min(-1),
            _ => throw new ArgumentException($"MatrixNorm: a numeric ord must be ±1, ±2 or ±∞; got {ord}."),
        };
        return keepDim ? norm.Unsqueeze(-1).Unsqueeze(-1) : norm;
    }

    /// <summary>A with its <paramref name="uplo"/> triangle moved to the lower one, which the kernels read.</summary>
    private static Tensor ReadTriangle(string op, Tensor a, string uplo) => uplo switch
    {
        "L" or "l" => a,
        "U" or "u" => a.MT,
        _ => throw new ArgumentException($"{op}: uplo must be \"L\" or \"U\"; got \"{uplo}\"."),
    };

    internal static void CheckMatrices(string op, Tensor a)
    {
        if (a.Rank < 2) throw new ShapeMismatchException(op, $"needs matrices [..., M, N]; got {a.Shape}");
        if (a.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"{op}: needs a float32 or float64 tensor; got {a.DType.DisplayName()} of shape {a.Shape}.");
    }

    internal static void CheckSquare(string op, Tensor a)
    {
        CheckMatrices(op, a);
        if (a.Sizes[^1] != a.Sizes[^2])
            throw new ShapeMismatchException(op, $"needs square matrices [..., N, N]; got {a.Shape}");
    }

    /// <summary>The error for a kernel that failed on matrix <paramref name="item"/> of <paramref name="a"/>'s batch.</summary>
    internal static LinalgException Failure(string op, Tensor a, int item, string problem)
    {
        var batch = a.Sizes[..^2];
        var index = new int[batch.Length];
        for (int d = batch.Length - 1, rest = item; d >= 0; d--)
        {
            index[d] = rest % batch[d];
            rest /= batch[d];
        }
        string which = batch.Length == 0 ? "the matrix" : $"matrix {Shape.Format(index)} of the batch";
        return new LinalgException($"{op}: {which} of the input {a.Shape} is {problem}.");
    }
}
