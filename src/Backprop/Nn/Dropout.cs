namespace Backprop.Nn;

/// <summary>
/// In training mode, zeroes each element with probability <see cref="P"/> and scales the rest by 1/(1 − p)
/// (see <see cref="Functional.Dropout"/>); in evaluation mode, passes the input through.
/// </summary>
public sealed class Dropout : Module<Tensor, Tensor>
{
    [IgnoreDiscovery] private readonly Generator? _generator;

    /// <param name="generator">Draws the masks; <see cref="Generator.Default"/> when null.</param>
    public Dropout(double p = 0.5, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentOutOfRangeException(nameof(p), $"Dropout: p must be in [0, 1]; got {p}.");
        P = p;
        _generator = generator;
    }

    /// <summary>The probability of zeroing an element.</summary>
    public double P { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Dropout(input, P, IsTraining, _generator);

    protected override string ExtraDescription => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"p: {P}");
}
