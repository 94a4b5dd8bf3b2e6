namespace Backprop.Backends.Cpu;

// Each step runs Vector<T> lanes, then a scalar tail with the same operations in the same order, so an element's result
// does not depend on where it falls (IEEE +, −, ×, ÷ and √ round the same in both).
public sealed partial class CpuBackend
{
    /// <summary>
    /// Splits an update across the cores once a parameter is large enough to repay the hand-off: an optimizer step
    /// streams four or five buffers through memory, more than one core can pull. An element's result is the same
    /// whichever chunk it falls in.
    /// </summary>
    private static void RunOptimizer<TBody>(int n, TBody body) where TBody : struct, IParallelBody
    {
        if (n < OptimizerParallelMin) body.Execute(0, n);
        else CpuParallel.For(n, ref body, OptimizerParallelMin / 2, chunksPerThread: 2);
    }

    private const int OptimizerParallelMin = 1 << 15;

    public void SgdStep(StridedView parameter, StridedView gradient, StridedView? momentumBuffer, in SgdUpdate update)
    {
        CheckOptimizerViews("SgdStep", parameter, gradient, momentumBuffer);
        if (parameter.DType == DType.Float32) RunOptimizer(parameter.NumElements, new Sgd<float>(parameter, gradient, momentumBuffer, update));
        else RunOptimizer(parameter.NumElements, new Sgd<double>(parameter, gradient, momentumBuffer, update));
    }

    private readonly struct Sgd<T>(StridedView parameter, StridedView gradient, StridedView? momentumBuffer, SgdUpdate u) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Execute(int start, int end)
        {
            var p = Span<T>(parameter)[..end];
            ReadOnlySpan<T> g = Span<T>(gradient)[..end];
            var b = momentumBuffer is { } view ? Span<T>(view)[..end] : default;
            T lr = T.CreateTruncating(u.LearningRate), decay = T.CreateTruncating(u.WeightDecay);
            T momentum = T.CreateTruncating(u.Momentum), keep = T.CreateTruncating(1 - u.Dampening);
            bool hasDecay = u.WeightDecay != 0, hasMomentum = momentumBuffer is not null;
            int i = start;
            if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            {
                Vector<T> vLr = new(lr), vDecay = new(decay), vMomentum = new(momentum), vKeep = new(keep), vMinNormal = new(Subnormal<T>.MinNormal);
                for (; i <= p.Length - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var d = new Vector<T>(g[i..]);
                    if (u.Maximize) d = -d;
                    var pv = new Vector<T>(p[i..]);
                    if (hasDecay) d += vDecay * pv;
                    if (hasMomentum)
                    {
                        var bv = Subnormal<T>.Flush(u.InitializeMomentum ? d : vMomentum * new Vector<T>(b[i..]) + vKeep * d, vMinNormal);
                        bv.CopyTo(b[i..]);
                        d = u.Nesterov ? d + vMomentum * bv : bv;
                    }
                    (pv - vLr * d).CopyTo(p[i..]);
                }
            }
            for (; i < p.Length; i++)
            {
                T d = u.Maximize ? -g[i] : g[i];
                if (hasDecay) d += decay * p[i];
                if (hasMomentum)
                {
                    b[i] = Subnormal<T>.Flush(u.InitializeMomentum ? d : momentum * b[i] + keep * d);
                    d = u.Nesterov ? d + momentum * b[i] : b[i];
                }
                p[i] -= lr * d;
            }
        }
    }

    public void AdamStep(StridedView parameter, StridedView gradient, StridedView expAvg, StridedView expAvgSq, StridedView? maxExpAvgSq,
        in AdamUpdate update)
    {
        CheckOptimizerViews("AdamStep", parameter, gradient, expAvg, expAvgSq, maxExpAvgSq);
        if (parameter.DType == DType.Float32) RunOptimizer(parameter.NumElements, new Adam<float>(parameter, gradient, expAvg, expAvgSq, maxExpAvgSq, update));
        else RunOptimizer(parameter.NumElements, new Adam<double>(parameter, gradient, expAvg, expAvgSq, maxExpAvgSq, update));
    }

    private readonly struct Adam<T>(StridedView parameter, StridedView gradient, StridedView expAvg, StridedView expAvgSq,
        StridedView? maxExpAvgSq, AdamUpdate u) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Execute(int start, int end)
        {
            var p = Span<T>(parameter)[..end];
            ReadOnlySpan<T> g = Span<T>(gradient)[..end];
            var m = Span<T>(expAvg)[..end];
            var v = Span<T>(expAvgSq)[..end];
            var vMax = maxExpAvgSq is { } view ? Span<T>(view)[..end] : default;
            T stepSize = T.CreateTruncating(u.StepSize), correction2 = T.CreateTruncating(u.BiasCorrection2Sqrt);
            T beta1 = T.CreateTruncating(u.Beta1), beta2 = T.CreateTruncating(u.Beta2);
            T rest1 = T.CreateTruncating(1 - u.Beta1), rest2 = T.CreateTruncating(1 - u.Beta2);
            T eps = T.CreateTruncating(u.Eps), decay = T.CreateTruncating(u.WeightDecay), scale = T.CreateTruncating(u.ParameterScale);
            bool hasDecay = u.WeightDecay != 0, scaled = u.ParameterScale != 1;
            bool flushSecond = Subnormal<T>.CannotReachEps(u.Eps, u.BiasCorrection2Sqrt);
            int i = start;
            if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            {
                Vector<T> vStep = new(stepSize), vCorrection2 = new(correction2), vBeta1 = new(beta1), vBeta2 = new(beta2);
                Vector<T> vRest1 = new(rest1), vRest2 = new(rest2), vEps = new(eps), vDecay = new(decay), vScale = new(scale);
                Vector<T> vMinNormal = new(Subnormal<T>.MinNormal);
                for (; i <= p.Length - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var gv = new Vector<T>(g[i..]);
                    if (u.Maximize) gv = -gv;
                    var pv = new Vector<T>(p[i..]);
                    if (scaled) pv *= vScale;
                    if (hasDecay) gv += vDecay * pv;
                    var mv = Subnormal<T>.Flush(vBeta1 * new Vector<T>(m[i..]) + vRest1 * gv, vMinNormal);
                    var vv = vBeta2 * new Vector<T>(v[i..]) + vRest2 * gv * gv;
                    if (flushSecond) vv = Subnormal<T>.Flush(vv, vMinNormal);
                    mv.CopyTo(m[i..]);
                    vv.CopyTo(v[i..]);
                    var second = vv;
                    if (u.Amsgrad)
                    {
                        second = Vector.Max(new Vector<T>(vMax[i..]), vv);
                        second.CopyTo(vMax[i..]);
                    }
                    (pv - vStep * mv / (Vector.SquareRoot(second) / vCorrection2 + vEps)).CopyTo(p[i..]);
                }
            }
            for (; i < p.Length; i++)
            {
                T gi = u.Maximize ? -g[i] : g[i];
                if (scaled) p[i] *= scale;
                if (hasDecay) gi += decay * p[i];
                m[i] = Subnormal<T>.Flush(beta1 * m[i] + rest1 * gi);
                v[i] = beta2 * v[i] + rest2 * gi * gi;
                if (flushSecond) v[i] = Subnormal<T>.Flush(v[i]);
                T second = v[i];
                if (u.Amsgrad) second = vMax[i] = T.Max(vMax[i], second);
                p[i] -= stepSize * m[i] / (T.Sqrt(second) / correction2 + eps);
            }
        }
    }

    public void RmsPropStep(StridedView parameter, StridedView gradient, StridedView squareAvg, StridedView? gradAvg,
        StridedView? momentumBuffer, in RmsPropUpdate update)
    {
        CheckOptimizerViews("RmsPropStep", parameter, gradient, squareAvg, gradAvg, momentumBuffer);
        if (parameter.DType == DType.Float32) RunOptimizer(parameter.NumElements, new RmsProp<float>(parameter, gradient, squareAvg, gradAvg, momentumBuffer, update));
        else RunOptimizer(parameter.NumElements, new RmsProp<double>(parameter, gradient, squareAvg, gradAvg, momentumBuffer, update));
    }

    private readonly struct RmsProp<T>(StridedView parameter, StridedView gradient, StridedView squareAvg, StridedView? gradAvg,
        StridedView? momentumBuffer, RmsPropUpdate u) : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Execute(int start, int end)
        {
            var p = Span<T>(parameter)[..end];
            ReadOnlySpan<T> g = Span<T>(gradient)[..end];
            var sq = Span<T>(squareAvg)[..end];
            var avg = gradAvg is { } a ? Span<T>(a)[..end] : default;
            var b = momentumBuffer is { } m ? Span<T>(m)[..end] : default;
            T lr = T.CreateTruncating(u.LearningRate), alpha = T.CreateTruncating(u.Alpha), rest = T.CreateTruncating(1 - u.Alpha);
            T eps = T.CreateTruncating(u.Eps), decay = T.CreateTruncating(u.WeightDecay), momentum = T.CreateTruncating(u.Momentum);
            bool hasDecay = u.WeightDecay != 0, centered = gradAvg is not null, hasMomentum = momentumBuffer is not null;
            bool flushSquare = Subnormal<T>.CannotReachEps(u.Eps, 1);
            int i = start;
            if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            {
                Vector<T> vLr = new(lr), vAlpha = new(alpha), vRest = new(rest), vEps = new(eps), vDecay = new(decay), vMomentum = new(momentum);
                Vector<T> vMinNormal = new(Subnormal<T>.MinNormal);
                for (; i <= p.Length - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var gv = new Vector<T>(g[i..]);
                    if (u.Maximize) gv = -gv;
                    var pv = new Vector<T>(p[i..]);
                    if (hasDecay) gv += vDecay * pv;
                    var sqv = vAlpha * new Vector<T>(sq[i..]) + vRest * gv * gv;
                    if (flushSquare) sqv = Subnormal<T>.Flush(sqv, vMinNormal);
                    sqv.CopyTo(sq[i..]);
                    Vector<T> denominator;
                    if (centered)
                    {
                        var av = Subnormal<T>.Flush(vAlpha * new Vector<T>(avg[i..]) + vRest * gv, vMinNormal);
                        av.CopyTo(avg[i..]);
                        denominator = Vector.SquareRoot(sqv - av * av) + vEps;
                    }
                    else denominator = Vector.SquareRoot(sqv) + vEps;
                    if (hasMomentum)
                    {
                        var bv = Subnormal<T>.Flush(vMomentum * new Vector<T>(b[i..]) + gv / denominator, vMinNormal);
                        bv.CopyTo(b[i..]);
                        (pv - vLr * bv).CopyTo(p[i..]);
                    }
                    else (pv - vLr * gv / denominator).CopyTo(p[i..]);
                }
            }
            for (; i < p.Length; i++)
            {
                T gi = u.Maximize ? -g[i] : g[i];
                if (hasDecay) gi += decay * p[i];
                sq[i] = alpha * sq[i] + rest * gi * gi;
                if (flushSquare) sq[i] = Subnormal<T>.Flush(sq[i]);
                T denominator;
                if (centered)
                {
                    avg[i] = Subnormal<T>.Flush(alpha * avg[i] + rest * gi);
                    denominator = T.Sqrt(sq[i] - avg[i] * avg[i]) + eps;
                }
                else denominator = T.Sqrt(sq[i]) + eps;
                if (hasMomentum)
                {
                    b[i] = Subnormal<T>.Flush(momentum * b[i] + gi / denominator);
                    p[i] -= lr * b[i];
                }
                else p[i] -= lr * gi / denominator;
            }
        }
    }

    public void AdagradStep(StridedView parameter, StridedView gradient, StridedView sum, in AdagradUpdate update)
    {
        CheckOptimizerViews("AdagradStep", parameter, gradient, sum);
        if (parameter.DType == DType.Float32) RunOptimizer(parameter.NumElements, new Adagrad<float>(parameter, gradient, sum, update));
        else RunOptimizer(parameter.NumElements, new Adagrad<double>(parameter, gradient, sum, update));
    }

    private readonly struct Adagrad<T>(StridedView parameter, StridedView gradient, StridedView sum, AdagradUpdate u) : IParallelBody
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Execute(int start, int end)
        {
            var p = Span<T>(parameter)[..end];
            ReadOnlySpan<T> g = Span<T>(gradient)[..end];
            var s = Span<T>(sum)[..end];
            T stepSize = T.CreateTruncating(u.StepSize), eps = T.CreateTruncating(u.Eps), decay = T.CreateTruncating(u.WeightDecay);
            bool hasDecay = u.WeightDecay != 0;
            int i = start;
            if (Vector.IsHardwareAccelerated && Vector<T>.IsSupported)
            {
                Vector<T> vStep = new(stepSize), vEps = new(eps), vDecay = new(decay);
                for (; i <= p.Length - Vector<T>.Count; i += Vector<T>.Count)
                {
                    var gv = new Vector<T>(g[i..]);
                    if (u.Maximize) gv = -gv;
                    var pv = new Vector<T>(p[i..]);
                    if (hasDecay) gv += vDecay * pv;
                    var sv = new Vector<T>(s[i..]) + gv * gv;
                    sv.CopyTo(s[i..]);
                    (pv - vStep * gv / (Vector.SquareRoot(sv) + vEps)).CopyTo(p[i..]);
                }
            }
            for (; i < p.Length; i++)
            {
                T gi = u.Maximize ? -g[i] : g[i];
                if (hasDecay) gi += decay * p[i];
                s[i] += gi * gi;
                p[i] -= stepSize * gi / (T.Sqrt(s[i]) + eps);
            }
        }
    }

    /// <summary>
    /// Optimizer state that decays while its gradient is zero (a dead unit, an input pixel that is always blank) shrinks
    /// into the subnormal range and stays there, since β·x rounds back to x for the smallest subnormals; x86 cores take
    /// a microcode assist of a hundred cycles or more for every vector instruction that reads or produces one. In the
    /// MNIST recipe Adam's step took twice as long from the fifth epoch on. The steps therefore flush subnormal state to
    /// zero, as TensorFlow's CPU kernels do for all arithmetic and PyTorch does after <c>torch.set_flush_denormal</c>.
    /// Momentum and first moments are always flushed: a subnormal one moves a parameter by at most lr·MinNormal/ε, less
    /// than half its last bit unless the parameter is itself below about 1e-24 (float32, ε = 1e-8) or 1e-290 (float64). Squared averages are flushed only
    /// when ε makes that exact (<see cref="CannotReachEps"/>): with ε = 0 a subnormal one is what keeps an update finite.
    /// </summary>
    private static class Subnormal<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static readonly T MinNormal = typeof(T) == typeof(float)
            ? T.CreateTruncating(BitConverter.Int32BitsToSingle(0x0080_0000))
            : T.CreateTruncating(BitConverter.Int64BitsToDouble(0x0010_0000_0000_0000));

        // |x| < MinNormal is false for NaN, so a NaN stays NaN; lanes and the scalar tail flush the same values.
        public static Vector<T> Flush(Vector<T> x, Vector<T> minNormal) => Vector.AndNot(x, Vector.LessThan(Vector.Abs(x), minNormal));

        public static T Flush(T x) => T.Abs(x) < MinNormal ? T.Zero : x;

        /// <summary>
        /// Whether a squared average below MinNormal, square-rooted and divided by <paramref name="divisor"/>, is under a
        /// fourth of ε's last bit, so that √v/divisor + ε rounds to ε whether v is that subnormal or zero.
        /// </summary>
        public static bool CannotReachEps(double eps, double divisor) =>
            Math.Sqrt(double.CreateTruncating(MinNormal)) / divisor < eps * double.CreateTruncating(T.Epsilon / MinNormal) / 8;
    }

    private static void CheckOptimizerViews(string op, in StridedView parameter, params ReadOnlySpan<StridedView?> others)
    {
        if (parameter.DType is not (DType.Float32 or DType.Float64))
            throw new ArgumentException($"{op}: parameters must be float32 or float64; got {parameter.DType.DisplayName()}.");
        if (!parameter.IsContiguous) throw new ArgumentException($"{op}: the parameter view must be contiguous.");
        int n = parameter.NumElements;
        foreach (var other in others)
        {
            if (other is not { } view) continue;
            if (!view.IsContiguous || view.DType != parameter.DType || view.NumElements != n)
                throw new ArgumentException(
                    $"{op}: every operand must be a contiguous {parameter.DType.DisplayName()} view of {n} elements; got {view.DType.DisplayName()} " +
                    $"of shape {Shape.Format(view.Shape)}{(view.IsContiguous ? "" : " (not contiguous)")}.");
        }
    }
}
