using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// Layer normalisation (see <see cref="Functional.LayerNorm"/>): each sample standardised over its trailing dims
/// <see cref="NormalizedShape"/>, then scaled by <see cref="Weight"/> (starting at 1) and shifted by
/// <see cref="Bias"/> (at 0) element-wise. The same in training and evaluation.
/// </summary>
public sealed class LayerNorm : Module<Tensor, Tensor>
{
    [IgnoreDiscovery] private readonly int[] _normalizedShape;

    /// <param name="normalizedShape">The trailing dims to normalise over, e.g. <c>[embeddingDim]</c> or <c>[C, H, W]</c>.</param>
    /// <param name="eps">Added to the variance before its square root.</param>
    /// <param name="elementwiseAffine">Whether to learn a weight (and, with <paramref name="bias"/>, a bias) of that shape.</param>
    public LayerNorm(int[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true, DType dtype = DType.Float32,
        Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d <= 0))
            throw new ArgumentOutOfRangeException(nameof(normalizedShape), $"LayerNorm: normalizedShape must be positive sizes; got {Shape.Format(normalizedShape)}.");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), $"LayerNorm: eps must be non-negative; got {eps}.");
        _normalizedShape = [.. normalizedShape];
        Eps = eps;
        if (elementwiseAffine)
        {
            Weight = new Parameter(Tensor.Ones(new Shape(_normalizedShape), dtype, device));
            if (bias) Bias = new Parameter(Tensor.Zeros(new Shape(_normalizedShape), dtype, device));
        }
    }

    /// <summary>Normalises over the last dim, of size <paramref name="normalizedShape"/>.</summary>
    public LayerNorm(int normalizedShape, double eps = 1e-5, bool elementwiseAffine = true, bool bias = true, DType dtype = DType.Float32,
        Device? device = null)
        : this([normalizedShape], eps, elementwiseAffine, bias, dtype, device)
    {
    }

    /// <summary>The trailing dims each sample is normalised over.</summary>
    public IReadOnlyList<int> NormalizedShape => _normalizedShape;

    public double Eps { get; }

    /// <summary>Of the normalized shape, or null without an elementwise affine.</summary>
    public Parameter? Weight { get; set; }

    /// <summary>Of the normalized shape, or null.</summary>
    public Parameter? Bias { get; set; }

    protected override Tensor ForwardCore(Tensor input) => Functional.LayerNorm(input, _normalizedShape, Weight, Bias, Eps);

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"{Shape.Format(_normalizedShape)}, eps: {Eps}, elementwiseAffine: {Weight is not null}");
}
