namespace Backprop.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum (PyTorch's form: the buffer starts as the first gradient,
/// then b ← μb + (1 − τ)g), Nesterov momentum and L2 weight decay: θ ← θ − γ·(Nesterov ? g + μb : b).
/// </summary>
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
        foreach (var group in ParamGroups)
        {
            var o = OptionsOf(group);
            foreach (var p in group.Parameters)
            {
                if (p.Grad is not { } grad) continue;
                var state = State(p);
                state.Step++;
                var d = o.Maximize ? -grad : grad;
                if (o.WeightDecay != 0) d = d + p * o.WeightDecay;
                if (o.Momentum != 0)
                {
                    if (state[MomentumBuffer] is { } buffer) buffer.MulInPlace(o.Momentum).AddInPlace(d, 1 - o.Dampening);
                    else state[MomentumBuffer] = buffer = d.Clone();
                    d = o.Nesterov ? d + buffer * o.Momentum : buffer;
                }
                p.AddInPlace(d, -o.LearningRate);
            }
        }
    }
}
