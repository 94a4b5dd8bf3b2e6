namespace Backprop.Optim;

/// <summary>How <see cref="Lbfgs"/> chooses the step length along its direction.</summary>
public enum LbfgsLineSearch
{
    /// <summary>A fixed step: the learning rate (scaled down on the very first iteration), as PyTorch's default.</summary>
    None,
    /// <summary>A line search satisfying the strong Wolfe conditions (sufficient decrease, c1 = 1e-4; curvature, c2 = 0.9).</summary>
    StrongWolfe,
}

/// <summary>
/// L-BFGS (torch.optim.LBFGS, ported step for step): a quasi-Newton method that builds an approximation of the
/// inverse Hessian from the last <c>historySize</c> pairs of parameter and gradient changes, by the two-loop
/// recursion. Each <see cref="Step"/> runs up to <c>maxIter</c> iterations and needs a closure that clears the
/// gradients, computes the loss, calls <c>Backward</c> and returns the loss, since it evaluates the function several
/// times. As in PyTorch it takes one group of parameters with one set of options, and its vector work is done in
/// float64 on all parameters flattened into one vector.
/// </summary>
public sealed class Lbfgs
{
    private readonly FlatParameters _parameters;

    // The state PyTorch keeps under state[params[0]], carried from one Step to the next.
    private readonly List<double[]> _oldDirections = [];
    private readonly List<double[]> _oldSteps = [];
    private readonly List<double> _rho = [];
    private double[]? _direction;
    private double[]? _previousGradient;
    private double _t;
    private double _hessianDiagonal = 1;

    /// <param name="learningRate">The step length (PyTorch's lr, default 1).</param>
    /// <param name="maxIter">Iterations per <see cref="Step"/>.</param>
    /// <param name="maxEval">Function evaluations per <see cref="Step"/> (default maxIter · 5 / 4).</param>
    /// <param name="toleranceGrad">Stop when every gradient element is at most this in magnitude.</param>
    /// <param name="toleranceChange">Stop when the loss or the parameters change by less than this.</param>
    /// <param name="historySize">How many correction pairs approximate the inverse Hessian.</param>
    public Lbfgs(IEnumerable<Tensor> parameters, double learningRate = 1, int maxIter = 20, int? maxEval = null,
        double toleranceGrad = 1e-7, double toleranceChange = 1e-9, int historySize = 100, LbfgsLineSearch lineSearch = LbfgsLineSearch.None)
    {
        if (!(learningRate > 0)) throw new ArgumentOutOfRangeException(nameof(learningRate), $"Lbfgs: the learning rate must be positive; got {learningRate}.");
        if (maxIter < 1) throw new ArgumentOutOfRangeException(nameof(maxIter), $"Lbfgs: maxIter must be at least 1; got {maxIter}.");
        if (historySize < 1) throw new ArgumentOutOfRangeException(nameof(historySize), $"Lbfgs: historySize must be at least 1; got {historySize}.");
        if (toleranceGrad < 0 || toleranceChange < 0) throw new ArgumentOutOfRangeException(nameof(toleranceGrad), "Lbfgs: tolerances must be non-negative.");
        _parameters = new FlatParameters(parameters, "Lbfgs");
        LearningRate = learningRate;
        MaxIter = maxIter;
        MaxEval = maxEval ?? maxIter * 5 / 4;
        if (MaxEval < 1) throw new ArgumentOutOfRangeException(nameof(maxEval), $"Lbfgs: maxEval must be at least 1; got {MaxEval}.");
        ToleranceGrad = toleranceGrad;
        ToleranceChange = toleranceChange;
        HistorySize = historySize;
        LineSearch = lineSearch;
    }

    public double LearningRate { get; set; }

    public int MaxIter { get; }

    public int MaxEval { get; }

    public double ToleranceGrad { get; }

    public double ToleranceChange { get; }

    public int HistorySize { get; }

    public LbfgsLineSearch LineSearch { get; }

    /// <summary>Iterations run over all steps (PyTorch's state["n_iter"]).</summary>
    public int Iterations { get; private set; }

    /// <summary>Closure calls over all steps (PyTorch's state["func_evals"]).</summary>
    public int FunctionEvaluations { get; private set; }

    public IReadOnlyList<Tensor> Parameters => _parameters.Tensors;

    /// <summary>Clears the parameters' gradients.</summary>
    public void ZeroGrad() => _parameters.ZeroGrad();

    /// <summary>
    /// Runs up to <see cref="MaxIter"/> iterations. <paramref name="closure"/> must zero the gradients, compute the
    /// loss, call <c>Backward</c> on it and return it. Returns the loss of the first evaluation (before the update).
    /// </summary>
    public Tensor Step(Func<Tensor> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        var originalLoss = Evaluate(closure, out double loss);
        int currentEvals = 1;
        var flatGrad = _parameters.Gradients();
        if (FlatParameters.MaxAbs(flatGrad) <= ToleranceGrad) return originalLoss;

        int nIter = 0;
        while (nIter < MaxIter)
        {
            nIter++;
            Iterations++;
            double[] d;
            if (Iterations == 1)
            {
                d = Negated(flatGrad);
                _oldDirections.Clear();
                _oldSteps.Clear();
                _rho.Clear();
                _hessianDiagonal = 1;
            }
            else
            {
                d = TwoLoopDirection(flatGrad);
            }
            _direction = d;
            _previousGradient = (double[])flatGrad.Clone();
            double previousLoss = loss;

            double t = Iterations == 1 ? Math.Min(1.0, 1.0 / SumAbs(flatGrad)) * LearningRate : LearningRate;
            double gtd = FlatParameters.Dot(flatGrad, d);
            if (gtd > -ToleranceChange) break;

            int lsEvals;
            bool optimal = false;
            if (LineSearch == LbfgsLineSearch.StrongWolfe)
            {
                var x = _parameters.Values();
                (loss, flatGrad, t, lsEvals) = StrongWolfe(closure, x, t, d, loss, flatGrad, gtd);
                _parameters.SetStep(x, t, d);
                optimal = FlatParameters.MaxAbs(flatGrad) <= ToleranceGrad;
            }
            else
            {
                _parameters.SetStep(_parameters.Values(), t, d);
                lsEvals = 0;
                if (nIter != MaxIter)
                {
                    Evaluate(closure, out loss);
                    flatGrad = _parameters.Gradients();
                    optimal = FlatParameters.MaxAbs(flatGrad) <= ToleranceGrad;
                    lsEvals = 1;
                }
            }
            _t = t;
            currentEvals += lsEvals;

            if (nIter == MaxIter || currentEvals >= MaxEval || optimal) break;
            if (FlatParameters.MaxAbs(d) * Math.Abs(t) <= ToleranceChange) break;
            if (Math.Abs(loss - previousLoss) < ToleranceChange) break;
        }
        return originalLoss;
    }

    /// <summary>
    /// Updates the history with the latest (s, y) pair when the curvature yᵀs is positive, then applies the two-loop
    /// recursion to −g: an approximation of −H⁻¹g with H⁻¹ scaled by yᵀs / yᵀy.
    /// </summary>
    private double[] TwoLoopDirection(double[] flatGrad)
    {
        var y = new double[flatGrad.Length];
        var s = new double[flatGrad.Length];
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = flatGrad[i] - _previousGradient![i];
            s[i] = _direction![i] * _t;
        }
        double ys = FlatParameters.Dot(y, s);
        if (ys > 1e-10)
        {
            if (_oldDirections.Count == HistorySize)
            {
                _oldDirections.RemoveAt(0);
                _oldSteps.RemoveAt(0);
                _rho.RemoveAt(0);
            }
            _oldDirections.Add(y);
            _oldSteps.Add(s);
            _rho.Add(1.0 / ys);
            _hessianDiagonal = ys / FlatParameters.Dot(y, y);
        }

        int count = _oldDirections.Count;
        var alpha = new double[count];
        var q = Negated(flatGrad);
        for (int i = count - 1; i >= 0; i--)
        {
            alpha[i] = FlatParameters.Dot(_oldSteps[i], q) * _rho[i];
            Axpy(-alpha[i], _oldDirections[i], q);
        }
        for (int k = 0; k < q.Length; k++) q[k] *= _hessianDiagonal;
        for (int i = 0; i < count; i++)
        {
            double beta = FlatParameters.Dot(_oldDirections[i], q) * _rho[i];
            Axpy(alpha[i] - beta, _oldSteps[i], q);
        }
        return q;
    }

    private Tensor Evaluate(Func<Tensor> closure, out double loss)
    {
        Tensor result;
        using (Autograd.EnableGrad()) result = closure() ?? throw new InvalidOperationException("Lbfgs.Step: the closure returned null; it must return the loss.");
        if (result.NumElements != 1) throw new InvalidOperationException($"Lbfgs.Step: the closure must return a one-element loss; it returned shape {result.Shape}.");
        loss = result.Item();
        FunctionEvaluations++;
        return result;
    }

    /// <summary>The loss and gradient at x + t·d (the parameters are put back to x afterwards).</summary>
    private (double Loss, double[] Gradient) DirectionalEvaluate(Func<Tensor> closure, double[] x, double t, double[] d)
    {
        _parameters.SetStep(x, t, d);
        Evaluate(closure, out double loss);
        var gradient = _parameters.Gradients();
        _parameters.Set(x);
        return (loss, gradient);
    }

    /// <summary>PyTorch's _strong_wolfe: bracketing, then zooming by cubic interpolation (Nocedal and Wright, Algorithms 3.5 and 3.6).</summary>
    private (double Loss, double[] Gradient, double T, int Evals) StrongWolfe(Func<Tensor> closure, double[] x, double t, double[] d,
        double f, double[] g, double gtd, double c1 = 1e-4, double c2 = 0.9, int maxLs = 25)
    {
        double dNorm = FlatParameters.MaxAbs(d);
        var (fNew, gNew) = DirectionalEvaluate(closure, x, t, d);
        int evals = 1;
        double gtdNew = FlatParameters.Dot(gNew, d);
        double tPrev = 0, fPrev = f, gtdPrev = gtd;
        var gPrev = g;
        bool done = false;
        int lsIter = 0;
        double[] bracket, bracketF, bracketGtd;
        double[][] bracketG;
        while (true)
        {
            if (lsIter >= maxLs)
            {
                (bracket, bracketF, bracketG, bracketGtd) = ([0, t], [f, fNew], [g, gNew], [gtd, gtdNew]);
                break;
            }
            if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev))
            {
                (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]);
                break;
            }
            if (Math.Abs(gtdNew) <= -c2 * gtd)
            {
                (bracket, bracketF, bracketG, bracketGtd) = ([t], [fNew], [gNew], [gtdNew]);
                done = true;
                break;
            }
            if (gtdNew >= 0)
            {
                (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]);
                break;
            }
            double minStep = t + 0.01 * (t - tPrev);
            double maxStep = t * 10;
            double previous = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            (tPrev, fPrev, gPrev, gtdPrev) = (previous, fNew, gNew, gtdNew);
            (fNew, gNew) = DirectionalEvaluate(closure, x, t, d);
            evals++;
            gtdNew = FlatParameters.Dot(gNew, d);
            lsIter++;
        }

        // Zoom: shrink the bracket until a point satisfies both conditions.
        bool insufficientProgress = false;
        int low = 0, high = 1;
        if (bracket.Length == 2 && bracketF[0] > bracketF[1]) (low, high) = (1, 0);
        while (!done && lsIter < maxLs)
        {
            if (Math.Abs(bracket[1] - bracket[0]) * dNorm < ToleranceChange) break;
            t = CubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1], null);
            double hi = Math.Max(bracket[0], bracket[1]), lo = Math.Min(bracket[0], bracket[1]);
            double eps = 0.1 * (hi - lo);
            if (Math.Min(hi - t, t - lo) < eps)
            {
                if (insufficientProgress || t >= hi || t <= lo)
                {
                    t = Math.Abs(t - hi) < Math.Abs(t - lo) ? hi - eps : lo + eps;
                    insufficientProgress = false;
                }
                else insufficientProgress = true;
            }
            else insufficientProgress = false;

            (fNew, gNew) = DirectionalEvaluate(closure, x, t, d);
            evals++;
            gtdNew = FlatParameters.Dot(gNew, d);
            lsIter++;

            if (fNew > f + c1 * t * gtd || fNew >= bracketF[low])
            {
                (bracket[high], bracketF[high], bracketG[high], bracketGtd[high]) = (t, fNew, gNew, gtdNew);
                (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0);
            }
            else
            {
                if (Math.Abs(gtdNew) <= -c2 * gtd) done = true;
                else if (gtdNew * (bracket[high] - bracket[low]) >= 0)
                    (bracket[high], bracketF[high], bracketG[high], bracketGtd[high]) = (bracket[low], bracketF[low], bracketG[low], bracketGtd[low]);
                (bracket[low], bracketF[low], bracketG[low], bracketGtd[low]) = (t, fNew, gNew, gtdNew);
            }
        }
        if (bracket.Length == 1) low = 0;
        return (bracketF[low], bracketG[low], bracket[low], evals);
    }

    /// <summary>
    /// The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to the bounds (by
    /// default the interval between the points); the bounds' midpoint when the cubic has no minimum.
    /// </summary>
    internal static double CubicInterpolate(double x1, double f1, double g1, double x2, double f2, double g2, (double Min, double Max)? bounds)
    {
        var (minBound, maxBound) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1));
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2Square = d1 * d1 - g1 * g2;
        if (d2Square >= 0)
        {
            double d2 = Math.Sqrt(d2Square);
            double minPos = x1 <= x2
                ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
            return Math.Min(Math.Max(minPos, minBound), maxBound);
        }
        return (minBound + maxBound) / 2;
    }

    private static double[] Negated(double[] v)
    {
        var result = new double[v.Length];
        for (int i = 0; i < v.Length; i++) result[i] = -v[i];
        return result;
    }

    private static double SumAbs(double[] v)
    {
        double sum = 0;
        foreach (var x in v) sum += Math.Abs(x);
        return sum;
    }

    private static void Axpy(double a, double[] x, double[] y)
    {
        for (int i = 0; i < y.Length; i++) y[i] += a * x[i];
    }
}
