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
                state.Step++;
                var squareAvg = state[SquareAvg] ??= Tensor.ZerosLike(p);
                var gradAvg = o.Centered ? state[GradAvg] ??= Tensor.ZerosLike(p) : null;
                var buffer = o.Momentum > 0 ? state[MomentumBuffer] ??= Tensor.ZerosLike(p) : null;
                var target = Writable(p);
                p.Backend.RmsPropStep(target.Strided, grad.Contiguous().Strided, squareAvg.Strided, gradAvg?.Strided, buffer?.Strided,
                    new RmsPropUpdate(o.LearningRate, o.Alpha, o.Eps, o.WeightDecay, o.Momentum, o.Maximize));
                Commit(p, target, "RmsProp.Step");
                squareAvg.BumpVersion("RmsProp.Step");
                gradAvg?.BumpVersion("RmsProp.Step");
                buffer?.BumpVersion("RmsProp.Step");
            }
        }
    }
}
