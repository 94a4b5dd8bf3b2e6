using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// A learned position embedding, as GPT-2's <c>wpe</c>: a table <see cref="Weight"/> [maxLength, E], row t added to
/// position t of inputs [L, N, E] (or [N, L, E] with <see cref="BatchFirst"/>, or [L, E]). Initialised N(0, 0.02²), as
/// GPT-2.
/// </summary>
public sealed class LearnedPositionalEmbedding : Module<Tensor, Tensor>
{
    public LearnedPositionalEmbedding(int maxLength, int dModel, bool batchFirst = false, DType dtype = DType.Float32,
        Generator? generator = null, Device? device = null)
    {
        if (maxLength <= 0 || dModel <= 0)
            throw new ArgumentOutOfRangeException(nameof(maxLength), $"LearnedPositionalEmbedding: sizes must be positive; got {maxLength} × {dModel}.");
        MaxLength = maxLength;
        DModel = dModel;
        BatchFirst = batchFirst;
        Weight = new Parameter(Tensor.Empty([maxLength, dModel], dtype, device));
        Init.Normal(Weight, 0, 0.02, generator);
    }

    public int MaxLength { get; }

    public int DModel { get; }

    public bool BatchFirst { get; }

    /// <summary>[maxLength, E].</summary>
    public Parameter Weight { get; set; }

    /// <summary>Adds the embeddings of positions <paramref name="positionOffset"/>.. to <paramref name="input"/>.</summary>
    public Tensor Apply(Tensor input, int positionOffset)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (input.Rank is not (2 or 3) || input.Sizes[^1] != DModel)
            throw new ShapeMismatchException("LearnedPositionalEmbedding", $"input must be [L, N, {DModel}], [N, L, {DModel}] (batchFirst) or [L, {DModel}]; got {input.Shape}");
        int length = input.Sizes[input.Rank == 3 && BatchFirst ? 1 : 0];
        if (positionOffset < 0 || positionOffset + length > MaxLength)
            throw new ArgumentOutOfRangeException(nameof(input), $"LearnedPositionalEmbedding: positions {positionOffset}..{positionOffset + length - 1} exceed maxLength {MaxLength}.");
        var rows = Weight.Narrow(0, positionOffset, length);
        return input + (input.Rank == 3 && !BatchFirst ? rows.Unsqueeze(1) : rows);
    }

    protected override Tensor ForwardCore(Tensor input) => Apply(input, 0);

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture, $"maxLength: {MaxLength}, dModel: {DModel}");
}
