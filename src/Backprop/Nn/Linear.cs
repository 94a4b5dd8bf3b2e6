namespace Backprop.Nn;

/// <summary>
/// y = x·Wᵀ + b, for x of shape [..., <see cref="InFeatures"/>]. Initialised as PyTorch does: W and b uniform in
/// (−1/√in, 1/√in), i.e. Kaiming-uniform with a = √5.
/// </summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <param name="bias">Whether to learn an additive bias.</param>
    /// <param name="generator">Draws the initial values; <see cref="Generator.Default"/> when null.</param>
    /// <param name="device">Where the parameters are created; the default device (the CPU) when null.</param>
    public Linear(int inFeatures, int outFeatures, bool bias = true, DType dtype = DType.Float32, Generator? generator = null,
        Device? device = null)
    {
        if (inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentOutOfRangeException(nameof(inFeatures), $"Linear: feature counts must be positive; got {inFeatures} → {outFeatures}.");
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = new Parameter(Tensor.Empty([outFeatures, inFeatures], dtype, device));
        Init.KaimingUniform(Weight, a: Math.Sqrt(5), generator: generator);
        if (bias)
        {
            double bound = 1 / Math.Sqrt(inFeatures);
            Bias = new Parameter(Tensor.Empty([outFeatures], dtype, device));
            Init.Uniform(Bias, -bound, bound, generator);
        }
    }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    /// <summary>[<see cref="OutFeatures"/>, <see cref="InFeatures"/>].</summary>
    public Parameter Weight { get; set; }

    /// <summary>[<see cref="OutFeatures"/>], or null without bias.</summary>
    public Parameter? Bias { get; set; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Linear(input, Weight, Bias);

    protected override string ExtraDescription => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"inFeatures: {InFeatures}, outFeatures: {OutFeatures}, bias: {Bias is not null}");
}
