using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// Channel dropout for [N, C, H, W] (or [C, H, W]) feature maps (see <see cref="Functional.Dropout2d"/>): in training
/// mode each channel of each sample is zeroed whole with probability <see cref="P"/> and the rest scaled by
/// 1/(1 − p); in evaluation mode the input passes through.
/// </summary>
public sealed class Dropout2d : Module<Tensor, Tensor>
{
    [IgnoreDiscovery] private readonly Generator? _generator;

    /// <param name="generator">Draws the masks; <see cref="Generator.Default"/> when null.</param>
    public Dropout2d(double p = 0.5, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout2d: p must be in [0, 1]; got {p}.");
        P = p;
        _generator = generator;
    }

    /// <summary>The probability of zeroing a channel.</summary>
    public double P { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Dropout2d(input, P, IsTraining, _generator);

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture, $"p: {P}");
}
