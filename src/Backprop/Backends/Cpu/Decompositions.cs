namespace Backprop.Backends.Cpu;

/// <summary>
/// The decompositions on one row-major float64 matrix: LU with partial pivoting, Cholesky, Householder QR,
/// one-sided Jacobi SVD and cyclic Jacobi for symmetric eigenproblems. Plain scalar loops, so the result is the same
/// on every machine.
/// </summary>
internal static class Decompositions
{
    /// <summary>A Jacobi rotation is skipped once the pair it would rotate is orthogonal to this relative accuracy.</summary>
    private const double Tolerance = 1e-15;

    /// <summary>Enough for any well-scaled matrix: Jacobi converges quadratically once near diagonal (a few sweeps).</summary>
    private const int MaxSweeps = 100;

    /// <summary>
    /// Factors lu (n×n) in place into unit-lower L and upper U with row swaps <paramref name="pivots"/> (LAPACK's
    /// ipiv). Returns the permutation's sign, or null when a pivot column is exactly zero (the matrix is singular).
    /// </summary>
    public static double? LuFactor(double[] lu, int n, int[] pivots)
    {
        double sign = 1;
        for (int k = 0; k < n; k++)
        {
            int p = k;
            double largest = Math.Abs(lu[k * n + k]);
            for (int i = k + 1; i < n; i++)
            {
                double v = Math.Abs(lu[i * n + k]);
                if (v > largest) (largest, p) = (v, i);
            }
            pivots[k] = p;
            if (largest == 0) return null;
            if (p != k)
            {
                for (int j = 0; j < n; j++) (lu[k * n + j], lu[p * n + j]) = (lu[p * n + j], lu[k * n + j]);
                sign = -sign;
            }
            double pivot = lu[k * n + k];
            for (int i = k + 1; i < n; i++)
            {
                double factor = lu[i * n + k] /= pivot;
                for (int j = k + 1; j < n; j++) lu[i * n + j] -= factor * lu[k * n + j];
            }
        }
        return sign;
    }

    /// <summary>Overwrites rhs (n×k) with the solution of A·x = rhs given A's factors from <see cref="LuFactor"/>.</summary>
    public static void LuSolve(double[] lu, int n, int[] pivots, double[] rhs, int k)
    {
        for (int i = 0; i < n; i++)
            if (pivots[i] != i)
                for (int j = 0; j < k; j++) (rhs[i * k + j], rhs[pivots[i] * k + j]) = (rhs[pivots[i] * k + j], rhs[i * k + j]);
        for (int i = 0; i < n; i++)
            for (int r = 0; r < i; r++)
            {
                double factor = lu[i * n + r];
                for (int j = 0; j < k; j++) rhs[i * k + j] -= factor * rhs[r * k + j];
            }
        for (int i = n - 1; i >= 0; i--)
        {
            for (int r = i + 1; r < n; r++)
            {
                double factor = lu[i * n + r];
                for (int j = 0; j < k; j++) rhs[i * k + j] -= factor * rhs[r * k + j];
            }
            double pivot = lu[i * n + i];
            for (int j = 0; j < k; j++) rhs[i * k + j] /= pivot;
        }
    }

    /// <summary>Overwrites m (n×n) with its lower Cholesky factor, reading only the lower triangle. False when m is not positive-definite.</summary>
    public static bool Cholesky(double[] m, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double diagonal = m[j * n + j];
            for (int k = 0; k < j; k++) diagonal -= m[j * n + k] * m[j * n + k];
            if (!(diagonal > 0)) return false;
            double root = Math.Sqrt(diagonal);
            m[j * n + j] = root;
            for (int i = j + 1; i < n; i++)
            {
                double sum = m[i * n + j];
                for (int k = 0; k < j; k++) sum -= m[i * n + k] * m[j * n + k];
                m[i * n + j] = sum / root;
            }
            for (int i = 0; i < j; i++) m[i * n + j] = 0;
        }
        return true;
    }

    /// <summary>
    /// Householder QR in place (LAPACK's dgeqr2): R on and above the diagonal of work (rows×cols), each reflector's
    /// vector below it (its leading 1 implied) and its scale in tau. β = −sign(α)·‖x‖, as LAPACK chooses, so the
    /// signs of R's diagonal match other libraries'.
    /// </summary>
    public static void Householder(double[] work, int rows, int cols, double[] tau)
    {
        for (int j = 0; j < tau.Length; j++)
        {
            double alpha = work[j * cols + j], tail = 0;
            for (int i = j + 1; i < rows; i++) tail += work[i * cols + j] * work[i * cols + j];
            if (tail == 0)
            {
                tau[j] = 0;
                continue;
            }
            double beta = -Math.CopySign(Math.Sqrt(alpha * alpha + tail), alpha);
            tau[j] = (beta - alpha) / beta;
            double scale = 1 / (alpha - beta);
            for (int i = j + 1; i < rows; i++) work[i * cols + j] *= scale;
            work[j * cols + j] = beta;
            // Apply H = I − τ·v·vᵀ to the columns on the right.
            for (int c = j + 1; c < cols; c++)
            {
                double dot = work[j * cols + c];
                for (int i = j + 1; i < rows; i++) dot += work[i * cols + j] * work[i * cols + c];
                dot *= tau[j];
                work[j * cols + c] -= dot;
                for (int i = j + 1; i < rows; i++) work[i * cols + c] -= dot * work[i * cols + j];
            }
        }
    }

    /// <summary>The first <paramref name="qCols"/> columns of Q = H₀·H₁·…, from <see cref="Householder"/>'s output.</summary>
    public static void FormQ(double[] work, int rows, int cols, double[] tau, double[] q, int qCols)
    {
        Array.Clear(q, 0, rows * qCols);
        for (int i = 0; i < Math.Min(rows, qCols); i++) q[i * qCols + i] = 1;
        for (int j = tau.Length - 1; j >= 0; j--)
        {
            if (tau[j] == 0) continue;
            for (int c = 0; c < qCols; c++)
            {
                double dot = q[j * qCols + c];
                for (int i = j + 1; i < rows; i++) dot += work[i * cols + j] * q[i * qCols + c];
                dot *= tau[j];
                q[j * qCols + c] -= dot;
                for (int i = j + 1; i < rows; i++) q[i * qCols + c] -= dot * work[i * cols + j];
            }
        }
    }

    /// <summary>
    /// m (rows×cols) = u·diag(s)·vh with u rows×uCols and vh vhRows×cols (uCols, vhRows are min(rows, cols) or full).
    /// A wide matrix is decomposed through its transpose.
    /// </summary>
    public static void Svd(double[] m, int rows, int cols, double[] u, int uCols, double[] s, double[] vh, int vhRows)
    {
        if (rows >= cols)
        {
            var v = new double[cols * cols];
            TallSvd(m, rows, cols, u, uCols, s, v);
            for (int i = 0; i < cols; i++)
                for (int j = 0; j < cols; j++) vh[i * cols + j] = v[j * cols + i];
            return;
        }
        var transposed = new double[cols * rows];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) transposed[j * rows + i] = m[i * cols + j];
        // mᵀ = u'·diag(s)·v'ᵀ, so m = v'·diag(s)·u'ᵀ.
        var uPrime = new double[cols * vhRows];
        var vPrime = new double[rows * rows];
        TallSvd(transposed, cols, rows, uPrime, vhRows, s, vPrime);
        Array.Copy(vPrime, u, rows * rows);
        for (int i = 0; i < vhRows; i++)
            for (int j = 0; j < cols; j++) vh[i * cols + j] = uPrime[j * vhRows + i];
    }

    /// <summary>
    /// One-sided Jacobi (Hestenes) for rows ≥ cols: rotates pairs of columns of m until all are orthogonal, collecting
    /// the rotations in v; the column norms are the singular values. u is rows×uCols, v is cols×cols (row-major).
    /// </summary>
    private static void TallSvd(double[] m, int rows, int cols, double[] u, int uCols, double[] s, double[] v)
    {
        // Column-major copies, so each rotation walks two contiguous columns.
        var w = new double[cols * rows];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) w[j * rows + i] = m[i * cols + j];
        var rotations = new double[cols * cols];
        for (int j = 0; j < cols; j++) rotations[j * cols + j] = 1;
        for (int sweep = 0; sweep < MaxSweeps; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < cols - 1; p++)
                for (int q = p + 1; q < cols; q++)
                {
                    Span<double> wp = w.AsSpan(p * rows, rows), wq = w.AsSpan(q * rows, rows);
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < rows; i++)
                    {
                        alpha += wp[i] * wp[i];
                        beta += wq[i] * wq[i];
                        gamma += wp[i] * wq[i];
                    }
                    if (Math.Abs(gamma) <= Tolerance * Math.Sqrt(alpha * beta)) continue;
                    rotated = true;
                    var (c, sn) = Rotation((beta - alpha) / (2 * gamma));
                    Rotate(wp, wq, c, sn);
                    Rotate(rotations.AsSpan(p * cols, cols), rotations.AsSpan(q * cols, cols), c, sn);
                }
            if (!rotated) break;
        }

        var norms = new double[cols];
        for (int j = 0; j < cols; j++)
        {
            double sum = 0;
            for (int i = 0; i < rows; i++) sum += w[j * rows + i] * w[j * rows + i];
            norms[j] = Math.Sqrt(sum);
        }
        var order = SortedOrder(norms, descending: true);
        Array.Clear(u, 0, rows * uCols);
        var filled = new bool[uCols];
        for (int t = 0; t < cols; t++)
        {
            int j = order[t];
            s[t] = norms[j];
            for (int i = 0; i < cols; i++) v[i * cols + t] = rotations[j * cols + i];
            if (norms[j] == 0) continue;
            for (int i = 0; i < rows; i++) u[i * uCols + t] = w[j * rows + i] / norms[j];
            filled[t] = true;
        }
        CompleteOrthonormalColumns(u, rows, uCols, filled);
    }

    /// <summary>
    /// Fills the columns of u not yet <paramref name="filled"/> with unit vectors orthogonal to all others: for each,
    /// the standard basis vector that keeps most of its length after Gram–Schmidt against the columns so far.
    /// </summary>
    private static void CompleteOrthonormalColumns(double[] u, int rows, int cols, bool[] filled)
    {
        var candidate = new double[rows];
        var best = new double[rows];
        for (int t = 0; t < cols; t++)
        {
            if (filled[t]) continue;
            double bestNorm = -1;
            for (int e = 0; e < rows; e++)
            {
                Array.Clear(candidate);
                candidate[e] = 1;
                // Twice, so the result is orthogonal to working precision ("twice is enough").
                for (int pass = 0; pass < 2; pass++)
                    for (int c = 0; c < cols; c++)
                    {
                        if (!filled[c]) continue;
                        double dot = 0;
                        for (int i = 0; i < rows; i++) dot += u[i * cols + c] * candidate[i];
                        for (int i = 0; i < rows; i++) candidate[i] -= dot * u[i * cols + c];
                    }
                double norm = 0;
                for (int i = 0; i < rows; i++) norm += candidate[i] * candidate[i];
                if (norm > bestNorm) (bestNorm, best, candidate) = (norm, candidate, best);
            }
            double scale = 1 / Math.Sqrt(bestNorm);
            for (int i = 0; i < rows; i++) u[i * cols + t] = best[i] * scale;
            filled[t] = true;
        }
    }

    /// <summary>
    /// Eigenvalues w (ascending) and eigenvectors (columns of v, row-major n×n) of the symmetric matrix whose lower
    /// triangle is m's, by cyclic Jacobi rotations (each zeroes one off-diagonal pair).
    /// </summary>
    public static void Eigh(double[] m, int n, double[] w, double[] v)
    {
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = m[i * n + j];
        var vectors = new double[n * n];
        for (int i = 0; i < n; i++) vectors[i * n + i] = 1;
        for (int sweep = 0; sweep < MaxSweeps; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < n - 1; p++)
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p * n + q];
                    double app = a[p * n + p], aqq = a[q * n + q];
                    if (apq == 0 || Math.Abs(apq) <= Tolerance * Math.Sqrt(Math.Abs(app * aqq))) continue;
                    rotated = true;
                    var (c, sn) = Rotation((aqq - app) / (2 * apq));
                    double t = sn / c, tau = sn / (1 + c);
                    a[p * n + p] = app - t * apq;
                    a[q * n + q] = aqq + t * apq;
                    a[p * n + q] = a[q * n + p] = 0;
                    for (int r = 0; r < n; r++)
                    {
                        if (r == p || r == q) continue;
                        double g = a[r * n + p], h = a[r * n + q];
                        a[r * n + p] = a[p * n + r] = g - sn * (h + g * tau);
                        a[r * n + q] = a[q * n + r] = h + sn * (g - h * tau);
                    }
                    for (int r = 0; r < n; r++)
                    {
                        double g = vectors[r * n + p], h = vectors[r * n + q];
                        vectors[r * n + p] = g - sn * (h + g * tau);
                        vectors[r * n + q] = h + sn * (g - h * tau);
                    }
                }
            if (!rotated) break;
        }
        var diagonal = new double[n];
        for (int i = 0; i < n; i++) diagonal[i] = a[i * n + i];
        var order = SortedOrder(diagonal, descending: false);
        for (int t = 0; t < n; t++)
        {
            w[t] = diagonal[order[t]];
            for (int i = 0; i < n; i++) v[i * n + t] = vectors[i * n + order[t]];
        }
    }

    /// <summary>
    /// cos and sin of the Jacobi rotation for ζ = (β − α)/2γ: tan θ is the root of t² + 2ζt − 1 = 0 of smaller
    /// magnitude, so the rotation is at most 45° (the stable choice).
    /// </summary>
    private static (double Cos, double Sin) Rotation(double zeta)
    {
        double t = Math.Abs(zeta) > 1e150 ? 0.5 / zeta : Math.CopySign(1, zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
        double c = 1 / Math.Sqrt(1 + t * t);
        return (c, c * t);
    }

    /// <summary>(x, y) ← (c·x − s·y, s·x + c·y) element-wise.</summary>
    private static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double xi = x[i], yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }

    /// <summary>Indices that sort <paramref name="keys"/>, ties kept in index order (a stable insertion sort: n is small).</summary>
    private static int[] SortedOrder(double[] keys, bool descending)
    {
        var order = new int[keys.Length];
        for (int i = 0; i < order.Length; i++)
        {
            int j = i;
            for (; j > 0 && (descending ? keys[order[j - 1]] < keys[i] : keys[order[j - 1]] > keys[i]); j--) order[j] = order[j - 1];
            order[j] = i;
        }
        return order;
    }
}
