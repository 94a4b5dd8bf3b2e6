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

    protected override void Update(Tensor target, Tensor grad, ParameterState state, AdagradOptions o)
    {
        double stepSize = o.LearningRate / (1 + (state.Step - 1) * o.LearningRateDecay);
        var sum = state[Sum] ??= Tensor.FullLike(target, o.InitialAccumulatorValue);
        target.Backend.AdagradStep(target.Strided, grad.Strided, sum.Strided, new AdagradUpdate(stepSize, o.WeightDecay, o.Eps, o.Maximize));
    }
}
