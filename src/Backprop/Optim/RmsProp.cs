namespace Backprop.Optim;

/// <summary>
/// RMSprop, as PyTorch implements it: v ← αv + (1 − α)g², θ ← θ − γ·g / (√v + ε); centered subtracts the squared
/// running mean of g from v, and momentum accumulates b ← μb + g/(√v + ε) and steps by b.
/// </summary>
public sealed class RmsProp : Optimizer<RmsPropOptions>
{
    private const int SquareAvg = 0, MomentumBuffer = 1, GradAvg = 2;

    public RmsProp(IEnumerable<Tensor> parameters, RmsPropOptions options)
        : base(parameters, options, "square_avg", "momentum_buffer", "grad_avg")
    {
    }

    public RmsProp(IEnumerable<Tensor> parameters, double learningRate = 1e-2, double alpha = 0.99, double eps = 1e-8,
        double weightDecay = 0, double momentum = 0, bool centered = false, bool maximize = false)
        : this(parameters, new RmsPropOptions
        {
            LearningRate = learningRate, Alpha = alpha, Eps = eps, WeightDecay = weightDecay, Momentum = momentum,
            Centered = centered, Maximize = maximize,
        })
    {
    }

    protected override void Update(Tensor target, Tensor grad, ParameterState state, RmsPropOptions o)
    {
        var squareAvg = state[SquareAvg] ??= Tensor.ZerosLike(target);
        var gradAvg = o.Centered ? state[GradAvg] ??= Tensor.ZerosLike(target) : null;
        var buffer = o.Momentum > 0 ? state[MomentumBuffer] ??= Tensor.ZerosLike(target) : null;
        target.Backend.RmsPropStep(target.Strided, grad.Strided, squareAvg.Strided, gradAvg?.Strided, buffer?.Strided,
            new RmsPropUpdate(o.LearningRate, o.Alpha, o.Eps, o.WeightDecay, o.Momentum, o.Maximize));
    }
}
