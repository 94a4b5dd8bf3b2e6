namespace Backprop.Optim;

/// <summary>
/// Adam (Kingma and Ba), as PyTorch implements it: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
/// θ ← θ − γ·m̂ / (√v̂ + ε) with bias corrections m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); ε outside the square root.
/// Weight decay is an L2 term added to g (see <see cref="AdamW"/> for the decoupled form); AMSGrad divides by the
/// largest v seen.
/// </summary>
public class Adam : Optimizer<AdamOptions>
{
    private const int ExpAvg = 0, ExpAvgSq = 1, MaxExpAvgSq = 2;

    private readonly bool _decoupledWeightDecay;

    public Adam(IEnumerable<Tensor> parameters, AdamOptions options) : this(parameters, options, decoupledWeightDecay: false) { }

    public Adam(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0, bool amsgrad = false, bool maximize = false)
        : this(parameters, Options(learningRate, beta1, beta2, eps, weightDecay, amsgrad, maximize), decoupledWeightDecay: false)
    {
    }

    private protected Adam(IEnumerable<Tensor> parameters, AdamOptions options, bool decoupledWeightDecay)
        : base(parameters, options, "exp_avg", "exp_avg_sq", "max_exp_avg_sq") =>
        _decoupledWeightDecay = decoupledWeightDecay;

    private protected static AdamOptions Options(double learningRate, double beta1, double beta2, double eps, double weightDecay,
        bool amsgrad, bool maximize) => new()
    {
        LearningRate = learningRate, Beta1 = beta1, Beta2 = beta2, Eps = eps, WeightDecay = weightDecay,
        Amsgrad = amsgrad, Maximize = maximize,
    };

    public override void Step()
    {
        using var noGrad = Autograd.NoGrad();
        foreach (var group in ParamGroups)
        {
            var o = OptionsOf(group);
            foreach (var p in group.Parameters)
            {
                if (p.Grad is not { } grad) continue;
                var state = State(p);
                long t = ++state.Step;
                var g = o.Maximize ? -grad : grad;
                if (o.WeightDecay != 0)
                {
                    if (_decoupledWeightDecay) p.MulInPlace(1 - o.LearningRate * o.WeightDecay);
                    else g = g + p * o.WeightDecay;
                }
                var m = state[ExpAvg] ??= Tensor.ZerosLike(p);
                var v = state[ExpAvgSq] ??= Tensor.ZerosLike(p);
                m.MulInPlace(o.Beta1).AddInPlace(g, 1 - o.Beta1);
                v.MulInPlace(o.Beta2).AddInPlace(g * g, 1 - o.Beta2);
                double biasCorrection1 = 1 - Math.Pow(o.Beta1, t);
                double biasCorrection2Sqrt = Math.Sqrt(1 - Math.Pow(o.Beta2, t));
                var second = v;
                if (o.Amsgrad)
                {
                    var max = state[MaxExpAvgSq] ??= Tensor.ZerosLike(p);
                    max.CopyFrom(Tensor.Maximum(max, v));
                    second = max;
                }
                var denominator = second.Sqrt() / biasCorrection2Sqrt + o.Eps;
                p.AddInPlace(m / denominator, -o.LearningRate / biasCorrection1);
            }
        }
    }
}
