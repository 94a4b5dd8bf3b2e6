using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// Group normalisation of [N, C, d…] (see <see cref="Functional.GroupNorm"/>): the channels split into
/// <see cref="NumGroups"/> groups, each sample's group standardised over its channels and positions, then a
/// per-channel scale (starting at 1) and shift (at 0). Independent of the batch, so the same in training and evaluation.
/// </summary>
public sealed class GroupNorm : Module<Tensor, Tensor>
{
    /// <param name="affine">Whether to learn a per-channel <see cref="Weight"/> and <see cref="Bias"/>.</param>
    public GroupNorm(int numGroups, int numChannels, double eps = 1e-5, bool affine = true, DType dtype = DType.Float32, Device? device = null)
    {
        if (numGroups <= 0 || numChannels <= 0 || numChannels % numGroups != 0)
            throw new ArgumentOutOfRangeException(nameof(numGroups), $"GroupNorm: {numChannels} channels cannot be split into {numGroups} equal groups.");
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), $"GroupNorm: eps must be non-negative; got {eps}.");
        NumGroups = numGroups;
        NumChannels = numChannels;
        Eps = eps;
        if (affine)
        {
            Weight = new Parameter(Tensor.Ones([numChannels], dtype, device));
            Bias = new Parameter(Tensor.Zeros([numChannels], dtype, device));
        }
    }

    public int NumGroups { get; }

    public int NumChannels { get; }

    public double Eps { get; }

    /// <summary>[<see cref="NumChannels"/>], or null when not affine.</summary>
    public Parameter? Weight { get; set; }

    /// <summary>[<see cref="NumChannels"/>], or null when not affine.</summary>
    public Parameter? Bias { get; set; }

    protected override Tensor ForwardCore(Tensor input)
    {
        if (input.Rank < 2 || input.Sizes[1] != NumChannels)
            throw new ShapeMismatchException("GroupNorm", $"expected [N, {NumChannels}, …]; got input {input.Shape}");
        return Functional.GroupNorm(input, NumGroups, Weight, Bias, Eps);
    }

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"{NumGroups}, {NumChannels}, eps: {Eps}, affine: {Weight is not null}");
}
