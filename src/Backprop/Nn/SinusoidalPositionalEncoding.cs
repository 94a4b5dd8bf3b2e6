using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// Adds the fixed sinusoidal position encoding of "Attention Is All You Need": PE[t, 2i] = sin(t / 10000^(2i/E)),
/// PE[t, 2i + 1] = cos(t / 10000^(2i/E)), to inputs [L, N, E] (or [N, L, E] with <see cref="BatchFirst"/>, or [L, E]).
/// The table is a non-persistent buffer <c>pe</c> [maxLength, E]: recomputed, not saved.
/// </summary>
public sealed class SinusoidalPositionalEncoding : Module<Tensor, Tensor>
{
    /// <param name="dModel">The feature size E; even.</param>
    /// <param name="maxLength">The longest sequence accepted.</param>
    public SinusoidalPositionalEncoding(int dModel, int maxLength = 5000, bool batchFirst = false, DType dtype = DType.Float32, Device? device = null)
    {
        if (dModel <= 0 || dModel % 2 != 0) throw new ArgumentOutOfRangeException(nameof(dModel), $"SinusoidalPositionalEncoding: dModel must be positive and even; got {dModel}.");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        DModel = dModel;
        MaxLength = maxLength;
        BatchFirst = batchFirst;
        var table = new double[maxLength * dModel];
        for (int t = 0; t < maxLength; t++)
            for (int i = 0; i < dModel; i += 2)
            {
                double angle = t * Math.Exp(-Math.Log(10000.0) * i / dModel);
                table[t * dModel + i] = Math.Sin(angle);
                table[t * dModel + i + 1] = Math.Cos(angle);
            }
        var pe = Tensor.FromArray(table, maxLength, dModel).To(dtype);
        RegisterBuffer("pe", device is { } d ? pe.To(d) : pe, persistent: false);
    }

    public int DModel { get; }

    public int MaxLength { get; }

    public bool BatchFirst { get; }

    /// <summary>Adds the encodings of positions <paramref name="positionOffset"/>.. to <paramref name="input"/> (an offset for tokens appended to a cached prefix).</summary>
    public Tensor Apply(Tensor input, int positionOffset)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is not (2 or 3) || input.Sizes[^1] != DModel)
            throw new ShapeMismatchException("SinusoidalPositionalEncoding", $"input must be [L, N, {DModel}], [N, L, {DModel}] (batchFirst) or [L, {DModel}]; got {input.Shape}");
        int lengthDim = input.Rank == 3 && BatchFirst ? 1 : 0;
        int length = input.Sizes[lengthDim];
        if (positionOffset < 0 || positionOffset + length > MaxLength)
            throw new ArgumentOutOfRangeException(nameof(input), $"SinusoidalPositionalEncoding: positions {positionOffset}..{positionOffset + length - 1} exceed maxLength {MaxLength}.");
        var pe = GetBuffer("pe")!.Narrow(0, positionOffset, length);
        return input + (input.Rank == 3 && !BatchFirst ? pe.Unsqueeze(1) : pe);
    }

    protected override Tensor ForwardCore(Tensor input) => Apply(input, 0);

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture, $"dModel: {DModel}, maxLength: {MaxLength}");
}
