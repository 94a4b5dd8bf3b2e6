namespace Backprop.Optim;

/// <summary>
/// Adam (Kingma and Ba), as PyTorch implements it: m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
/// θ ← θ − γ·m̂ / (√v̂ + ε) with bias corrections m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ); ε outside the square root.
/// Weight decay is an L2 term added to g (see <see cref="AdamW"/> for the decoupled form); AMSGrad divides by the
/// largest v seen.
/// </summary>
/// <remarks>
/// Each parameter is updated by one fused kernel (<see cref="IBackend.AdamStep"/>). State that decays below the smallest
/// normal number under zero gradients is stored as zero, as <c>torch.set_flush_denormal(True)</c> would: subnormal
/// arithmetic is about a hundred times slower on x86, and (with the default ε) the parameters come out the same unless
/// they are themselves below about 1e-24.
/// </remarks>
public class Adam : Optimizer<AdamOptions>
{
    private const int ExpAvg = 0, ExpAvgSq = 1, MaxExpAvgSq = 2;

    private readonly bool _decoupledWeightDecay;

    protected override string StepName => _decoupledWeightDecay ? "AdamW.Step" : "Adam.Step";

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

    protected override void Update(Tensor target, Tensor grad, ParameterState state, AdamOptions o)
    {
        long t = state.Step;
        var m = state[ExpAvg] ??= Tensor.ZerosLike(target);
        var v = state[ExpAvgSq] ??= Tensor.ZerosLike(target);
        var max = o.Amsgrad ? state[MaxExpAvgSq] ??= Tensor.ZerosLike(target) : null;
        bool decoupled = _decoupledWeightDecay && o.WeightDecay != 0;
        var update = new AdamUpdate(
            StepSize: o.LearningRate / (1 - Math.Pow(o.Beta1, t)),
            BiasCorrection2Sqrt: Math.Sqrt(1 - Math.Pow(o.Beta2, t)),
            o.Beta1, o.Beta2, o.Eps,
            WeightDecay: decoupled ? 0 : o.WeightDecay,
            ParameterScale: decoupled ? 1 - o.LearningRate * o.WeightDecay : 1,
            o.Amsgrad, o.Maximize);
        target.Backend.AdamStep(target.Strided, grad.Strided, m.Strided, v.Strided, max?.Strided, update);
    }
}
