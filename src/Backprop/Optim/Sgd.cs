namespace Backprop.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum (PyTorch's form: the buffer starts as the first gradient,
/// then b ← μb + (1 − τ)g), Nesterov momentum and L2 weight decay: θ ← θ − γ·(Nesterov ? g + μb : b).
/// </summary>
/// <remarks>Each parameter is updated by one fused kernel (<see cref="IBackend.SgdStep"/>).</remarks>
public sealed class Sgd : Optimizer<SgdOptions>
{
    private const int MomentumBuffer = 0;

    public Sgd(IEnumerable<Tensor> parameters, SgdOptions options) : base(parameters, options, "momentum_buffer") { }

    public Sgd(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double momentum = 0, double dampening = 0,
        double weightDecay = 0, bool nesterov = false, bool maximize = false)
        : this(parameters, new SgdOptions
        {
            LearningRate = learningRate, Momentum = momentum, Dampening = dampening, WeightDecay = weightDecay,
            Nesterov = nesterov, Maximize = maximize,
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
                Tensor? buffer = null;
                bool first = false;
                if (o.Momentum != 0)
                {
                    buffer = state[MomentumBuffer];
                    first = buffer is null;
                    buffer ??= state[MomentumBuffer] = Tensor.EmptyLike(p);
                }
                var target = Writable(p);
                p.Backend.SgdStep(target.Strided, grad.Contiguous().Strided, buffer?.Strided,
                    new SgdUpdate(o.LearningRate, o.WeightDecay, o.Momentum, o.Dampening, o.Nesterov, o.Maximize, InitializeMomentum: first));
                Commit(p, target, "Sgd.Step");
                buffer?.BumpVersion("Sgd.Step");
            }
        }
    }
}
