namespace Backprop.Optim;

/// <summary>
/// Adagrad, as PyTorch implements it: s ← s + g², θ ← θ − γₜ·g / (√s + ε) with γₜ = γ / (1 + (t − 1)·decay) and s
/// starting at the initial accumulator value.
/// </summary>
/// <remarks>Each parameter is updated by one fused kernel (<see cref="IBackend.AdagradStep"/>).</remarks>
public sealed class Adagrad : Optimizer<AdagradOptions>
{
    private const int Sum = 0;

    public Adagrad(IEnumerable<Tensor> parameters, AdagradOptions options) : base(parameters, options, "sum") { }

    public Adagrad(IEnumerable<Tensor> parameters, double learningRate = 1e-2, double learningRateDecay = 0, double weightDecay = 0,
        double initialAccumulatorValue = 0, double eps = 1e-10, bool maximize = false)
        : this(parameters, new AdagradOptions
        {
            LearningRate = learningRate, LearningRateDecay = learningRateDecay, WeightDecay = weightDecay,
            InitialAccumulatorValue = initialAccumulatorValue, Eps = eps, Maximize = maximize,
        })
    {
    }

    public override void Step()
    {
        using var noGrad = Autograd.NoGrad();
        // Index loops: enumerating the lists through their interfaces would allocate on every step.
        var groups = ParamGroups;
        for (int gi = 0; gi < groups.Count; gi++)
        {
            var group = groups[gi];
            var o = OptionsOf(group);
            var parameters = group.Parameters;
            for (int pi = 0; pi < parameters.Count; pi++)
            {
                var p = parameters[pi];
                if (p.Grad is not { } grad) continue;
                var state = State(p);
                long t = ++state.Step;
                double stepSize = o.LearningRate / (1 + (t - 1) * o.LearningRateDecay);
                var sum = state[Sum] ??= Tensor.FullLike(p, o.InitialAccumulatorValue);
                var target = Writable(p);
                p.Backend.AdagradStep(target.Strided, grad.Contiguous().Strided, sum.Strided,
                    new AdagradUpdate(stepSize, o.WeightDecay, o.Eps, o.Maximize));
                Commit(p, target, "Adagrad.Step");
                sum.BumpVersion("Adagrad.Step");
            }
        }
    }
}
