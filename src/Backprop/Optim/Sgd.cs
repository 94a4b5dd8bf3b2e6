namespace Backprop.Optim;

/// <summary>
/// Stochastic gradient descent with optional momentum (PyTorch's form: the buffer starts as the first gradient,
/// then b ← μb + (1 − τ)g), Nesterov momentum and L2 weight decay: θ ← θ − γ·(Nesterov ? g + μb : b).
/// </summary>
/// <remarks>
/// Each parameter is updated by one fused kernel (<see cref="IBackend.SgdStep"/>). State that decays below the smallest
/// normal number under zero gradients is stored as zero, as <c>torch.set_flush_denormal(True)</c> would: subnormal
/// arithmetic is about a hundred times slower on x86, and the parameters come out the same unless they are themselves
/// below about 1e-30.
/// </remarks>
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

    protected override void Update(Tensor target, Tensor grad, ParameterState state, SgdOptions o)
    {
        Tensor? buffer = null;
        bool first = false;
        if (o.Momentum != 0)
        {
            buffer = state[MomentumBuffer];
            first = buffer is null;
            buffer ??= state[MomentumBuffer] = Tensor.EmptyLike(target);
        }
        target.Backend.SgdStep(target.Strided, grad.Strided, buffer?.Strided,
            new SgdUpdate(o.LearningRate, o.WeightDecay, o.Momentum, o.Dampening, o.Nesterov, o.Maximize, InitializeMomentum: first));
    }
}
