namespace Backprop.Optim;

/// <summary>
/// Adagrad, as PyTorch implements it: s ← s + g², θ ← θ − γₜ·g / (√s + ε) with γₜ = γ / (1 + (t − 1)·decay) and s
/// starting at the initial accumulator value.
/// </summary>
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
        foreach (var group in ParamGroups)
        {
            var o = OptionsOf(group);
            foreach (var p in group.Parameters)
            {
                if (p.Grad is not { } grad) continue;
                var state = State(p);
                long t = ++state.Step;
                var g = o.Maximize ? -grad : grad;
                if (o.WeightDecay != 0) g = g + p * o.WeightDecay;
                double stepSize = o.LearningRate / (1 + (t - 1) * o.LearningRateDecay);
                var sum = state[Sum] ??= Tensor.FullLike(p, o.InitialAccumulatorValue);
                sum.AddInPlace(g * g);
                p.AddInPlace(g / (sum.Sqrt() + o.Eps), -stepSize);
            }
        }
    }
}
