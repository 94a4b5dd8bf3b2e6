namespace Backprop.Nn;

/// <summary>
/// A lookup table: maps Int64 indices of any shape to rows of <see cref="Weight"/>, giving [..indices,
/// <see cref="EmbeddingDim"/>]. Initialised N(0, 1) as in PyTorch, with the padding row (if any) zero and never
/// updated by gradients.
/// </summary>
public sealed class Embedding : Module<Tensor, Tensor>
{
    /// <param name="paddingIndex">A row (negative counts from the end) that starts at zero and gets no gradient, for padding tokens.</param>
    /// <param name="generator">Draws the initial values; <see cref="Generator.Default"/> when null.</param>
    public Embedding(int numEmbeddings, int embeddingDim, int? paddingIndex = null, DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    {
        if (numEmbeddings <= 0 || embeddingDim <= 0)
            throw new ArgumentOutOfRangeException(nameof(numEmbeddings), $"Embedding: sizes must be positive; got {numEmbeddings} × {embeddingDim}.");
        if (paddingIndex is { } pad)
        {
            if (pad < -numEmbeddings || pad >= numEmbeddings)
                throw new ArgumentOutOfRangeException(nameof(paddingIndex), $"Embedding: padding index {pad} is outside the {numEmbeddings} rows.");
            PaddingIndex = pad < 0 ? pad + numEmbeddings : pad;
        }
        NumEmbeddings = numEmbeddings;
        EmbeddingDim = embeddingDim;
        Weight = new Parameter(Tensor.Empty([numEmbeddings, embeddingDim], dtype, device));
        Init.Normal(Weight, generator: generator);
        if (PaddingIndex is { } row)
            using (Autograd.NoGrad()) Weight.Select(0, row).FillInPlace(0);
    }

    public int NumEmbeddings { get; }

    public int EmbeddingDim { get; }

    /// <summary>The row that gets no gradient (normalised to be non-negative), or null.</summary>
    public int? PaddingIndex { get; }

    /// <summary>[<see cref="NumEmbeddings"/>, <see cref="EmbeddingDim"/>].</summary>
    public Parameter Weight { get; set; }

    protected override Tensor ForwardCore(Tensor input) => Functional.Embedding(input, Weight, PaddingIndex);

    protected override string ExtraDescription =>
        $"numEmbeddings: {NumEmbeddings}, embeddingDim: {EmbeddingDim}" + (PaddingIndex is { } p ? $", paddingIndex: {p}" : "");
}
