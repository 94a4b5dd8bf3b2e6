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
                state.Step++;
                var g = o.Maximize ? -grad : grad;
                if (o.WeightDecay != 0) g = g + p * o.WeightDecay;
                var squareAvg = state[SquareAvg] ??= Tensor.ZerosLike(p);
                squareAvg.MulInPlace(o.Alpha).AddInPlace(g * g, 1 - o.Alpha);
                Tensor denominator;
                if (o.Centered)
                {
                    var gradAvg = state[GradAvg] ??= Tensor.ZerosLike(p);
                    gradAvg.MulInPlace(o.Alpha).AddInPlace(g, 1 - o.Alpha);
                    denominator = (squareAvg - gradAvg * gradAvg).Sqrt() + o.Eps;
                }
                else denominator = squareAvg.Sqrt() + o.Eps;
                if (o.Momentum > 0)
                {
                    var buffer = state[MomentumBuffer] ??= Tensor.ZerosLike(p);
                    buffer.MulInPlace(o.Momentum).AddInPlace(g / denominator);
                    p.AddInPlace(buffer, -o.LearningRate);
                }
                else p.AddInPlace(g / denominator, -o.LearningRate);
            }
        }
    }
}
