namespace Backprop.Optim;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov and Hutter): θ ← θ·(1 − γλ) before the Adam step, instead of adding
/// λθ to the gradient, so the decay is not rescaled by the adaptive denominator. PyTorch's default λ is 0.01.
/// </summary>
public sealed class AdamW : Adam
{
    /// <param name="options">Used as given: note that <see cref="AdamOptions"/>' own default weight decay is 0.</param>
    public AdamW(IEnumerable<Tensor> parameters, AdamOptions options) : base(parameters, options, decoupledWeightDecay: true) { }

    public AdamW(IEnumerable<Tensor> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false, bool maximize = false)
        : base(parameters, Options(learningRate, beta1, beta2, eps, weightDecay, amsgrad, maximize), decoupledWeightDecay: true)
    {
    }
}
