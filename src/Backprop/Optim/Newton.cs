namespace Backprop.Optim;

/// <summary>How one <see cref="Newton"/> step found its direction and length.</summary>
/// <param name="Damping">λ added to the Hessian's diagonal so that its Cholesky factorisation succeeded (0: none needed).</param>
/// <param name="SteepestDescent">True when no damping up to the limit made the Hessian positive-definite and the step fell back to −g.</param>
/// <param name="StepLength">The length t of the step along the direction, chosen by backtracking (1 is the full Newton step).</param>
/// <param name="GradientNorm">‖g‖₂ at the start of the step.</param>
public sealed record NewtonStepInfo(double Damping, bool SteepestDescent, double StepLength, double GradientNorm);

/// <summary>
/// Damped Newton's method for small problems (up to a few thousand parameters): each step forms the Hessian H of the
/// loss with respect to all parameters (the Jacobian of the gradient, by <see cref="Transforms"/>), solves
/// (H + λI)·d = −g by Cholesky, raising λ from 0 until H + λI is positive-definite (Levenberg), falling back to the
/// gradient direction −g if it never is, and then backtracks along d until the loss decreases enough (Armijo); a
/// step that finds no decrease leaves the parameters where they were.
/// Near a minimum with a positive-definite Hessian the full step is taken and convergence is quadratic.
/// </summary>
public sealed class Newton
{
    private const int MaxDampingTries = 30;
    private const double ArmijoC1 = 1e-4;
    private const double MinStepLength = 1e-10;

    private readonly FlatParameters _parameters;

    /// <param name="learningRate">The first step length tried along the Newton direction (1: the full step).</param>
    /// <param name="damping">β, the margin by which damping makes the Hessian's diagonal positive, relative to its largest element.</param>
    public Newton(IEnumerable<Tensor> parameters, double learningRate = 1, double damping = 1e-3)
    {
        if (!(learningRate > 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"Newton: the learning rate must be positive; got {learningRate}.");
        if (!(damping > 0)) throw new ArgumentOutOfRangeException(nameof(damping), $"Newton: the damping must be positive; got {damping}.");
        _parameters = new FlatParameters(parameters, "Newton");
        LearningRate = learningRate;
        Damping = damping;
    }

    public double LearningRate { get; }

    public double Damping { get; }

    /// <summary>Steps taken.</summary>
    public int Iterations { get; private set; }

    /// <summary>How the last step went (null before the first).</summary>
    public NewtonStepInfo? LastStep { get; private set; }

    public IReadOnlyList<Tensor> Parameters => _parameters.Tensors;

    /// <summary>
    /// One Newton step. <paramref name="loss"/> computes and returns the loss from the parameters (without calling
    /// Backward: the step differentiates it twice itself); it is called again for the line search. Returns the loss
    /// before the step.
    /// </summary>
    public Tensor Step(Func<Tensor> loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        Tensor value;
        double[] g, hessian;
        using (Autograd.EnableGrad())
        {
            value = loss() ?? throw new InvalidOperationException("Newton.Step: the loss function returned null.");
            if (value.NumElements != 1) throw new InvalidOperationException($"Newton.Step: the loss must have one element; it has shape {value.Shape}.");
            var parameters = _parameters.Tensors;
            var grads = value.RequiresGrad
                ? Autograd.Grad([value], parameters, createGraph: true, allowUnused: true)
                : new Tensor?[parameters.Count];
            var flat = Tensor.Cat(grads.Select((gr, k) => (gr ?? Tensor.ZerosLike(parameters[k])).To(DType.Float64).Reshape(-1)));
            g = flat.Detach().ToArray<double>();
            hessian = Transforms.JacobianReverse(flat, parameters, createGraph: false).To(DType.Float64).ToArray<double>();
        }
        int n = g.Length;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
                hessian[i * n + j] = hessian[j * n + i] = 0.5 * (hessian[i * n + j] + hessian[j * n + i]);

        var (direction, lambda, steepest) = Direction(hessian, g);
        double f0 = value.Item();
        double slope = FlatParameters.Dot(g, direction);
        var x = _parameters.Values();
        double t = LearningRate;
        while (true)
        {
            _parameters.SetStep(x, t, direction);
            double f;
            using (Autograd.NoGrad()) f = loss().Item();
            if (f <= f0 + ArmijoC1 * t * slope) break;
            t *= 0.5;
            if (t < MinStepLength)
            {
                _parameters.Set(x);
                t = 0;
                break;
            }
        }
        Iterations++;
        LastStep = new NewtonStepInfo(lambda, steepest, t, Math.Sqrt(FlatParameters.Dot(g, g)));
        return value;
    }

    /// <summary>
    /// d solving (H + λI)·d = −g by Cholesky, with λ chosen as in Nocedal and Wright's Algorithm 3.3: 0 when H's
    /// diagonal is positive, else just enough to make it so plus β, then doubled until the factorisation succeeds;
    /// −g when it never does (a Hessian with NaN or ±∞).
    /// </summary>
    private (double[] Direction, double Lambda, bool Steepest) Direction(double[] hessian, double[] g)
    {
        int n = g.Length;
        double scale = 0, minDiagonal = double.PositiveInfinity;
        for (int i = 0; i < n; i++)
        {
            scale = Math.Max(scale, Math.Abs(hessian[i * n + i]));
            minDiagonal = Math.Min(minDiagonal, hessian[i * n + i]);
        }
        double beta = Damping * (scale > 0 ? scale : 1);
        double lambda = minDiagonal > 0 ? 0 : beta - minDiagonal;
        for (int attempt = 0; attempt < MaxDampingTries; attempt++)
        {
            if (CholeskyFactor(hessian, n, lambda) is { } l) return (CholeskySolve(l, n, g), lambda, false);
            lambda = Math.Max(2 * lambda, beta);
        }
        var steepest = new double[n];
        for (int i = 0; i < n; i++) steepest[i] = -g[i];
        return (steepest, lambda, true);
    }

    /// <summary>L with L·Lᵀ = H + λI (Linalg.Cholesky), or null when that matrix is not positive-definite.</summary>
    private static double[]? CholeskyFactor(double[] hessian, int n, double lambda)
    {
        var damped = (double[])hessian.Clone();
        for (int i = 0; i < n; i++) damped[i * n + i] += lambda;
        if (Array.Exists(damped, v => !double.IsFinite(v))) return null;
        try
        {
            using (Autograd.NoGrad())
                return Linalg.Cholesky(Tensor.FromArray(damped, n, n)).ToArray<double>();
        }
        catch (LinalgException)
        {
            return null;
        }
    }

    /// <summary>d with L·Lᵀ·d = −g: forward then back substitution.</summary>
    private static double[] CholeskySolve(double[] l, int n, double[] g)
    {
        var y = new double[n];
        for (int i = 0; i < n; i++)
        {
            double sum = -g[i];
            for (int k = 0; k < i; k++) sum -= l[i * n + k] * y[k];
            y[i] = sum / l[i * n + i];
        }
        var d = new double[n];
        for (int i = n - 1; i >= 0; i--)
        {
            double sum = y[i];
            for (int k = i + 1; k < n; k++) sum -= l[k * n + i] * d[k];
            d[i] = sum / l[i * n + i];
        }
        return d;
    }
}
