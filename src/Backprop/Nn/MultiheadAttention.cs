using System.Globalization;
using System.Runtime.CompilerServices;

namespace Backprop.Nn;

/// <summary>
/// Multi-head attention as PyTorch's <c>nn.MultiheadAttention</c>: query, key and value projected (by
/// <see cref="InProjWeight"/>, or by <see cref="QProjWeight"/>, <see cref="KProjWeight"/> and <see cref="VProjWeight"/>
/// when the key or value size differs from <see cref="EmbedDim"/>), split into <see cref="NumHeads"/> heads, attended
/// with <see cref="Functional.ScaledDotProductAttention"/>, concatenated and projected by <see cref="OutProj"/>. The
/// parameter names are PyTorch's, so its state dicts load unchanged.
/// </summary>
/// <remarks>
/// Masks follow PyTorch's MultiheadAttention, the inverse of the SDPA convention: a Bool <c>true</c> means "not
/// allowed" (an attention mask) or "padding" (a key padding mask); a float mask is added to the scores. A query whose
/// keys are all masked gives a zero output row and zero weights (PyTorch gives NaN).
/// </remarks>
public sealed class MultiheadAttention : Module
{
    [IgnoreDiscovery] private readonly Generator? _generator;

    /// <param name="embedDim">The model size E of queries and outputs; a multiple of <paramref name="numHeads"/>.</param>
    /// <param name="dropout">Dropout on the attention weights, in training mode.</param>
    /// <param name="bias">Whether the input and output projections learn biases.</param>
    /// <param name="kdim">The size of keys (E when null).</param>
    /// <param name="vdim">The size of values (E when null).</param>
    /// <param name="batchFirst">Inputs and outputs are [batch, seq, feature] instead of [seq, batch, feature].</param>
    /// <param name="generator">Draws the initial weights and the dropout masks; <see cref="Generator.Default"/> when null.</param>
    public MultiheadAttention(int embedDim, int numHeads, double dropout = 0.0, bool bias = true, int? kdim = null, int? vdim = null,
        bool batchFirst = false, DType dtype = DType.Float32, Generator? generator = null, Device? device = null)
    {
        if (embedDim <= 0 || numHeads <= 0 || embedDim % numHeads != 0)
            throw new ArgumentOutOfRangeException(nameof(numHeads), $"MultiheadAttention: embedDim ({embedDim}) must be a positive multiple of numHeads ({numHeads}).");
        if (!(dropout >= 0 && dropout <= 1)) throw new ArgumentOutOfRangeException(nameof(dropout), $"MultiheadAttention: dropout must be in [0, 1]; got {dropout}.");
        EmbedDim = embedDim;
        NumHeads = numHeads;
        Kdim = kdim ?? embedDim;
        Vdim = vdim ?? embedDim;
        if (Kdim <= 0 || Vdim <= 0) throw new ArgumentOutOfRangeException(nameof(kdim), $"MultiheadAttention: kdim and vdim must be positive; got {Kdim} and {Vdim}.");
        Dropout = dropout;
        BatchFirst = batchFirst;
        _generator = generator;
        // PyTorch's _reset_parameters: Xavier-uniform projections (on the packed [3E, E] matrix as a whole), zero biases.
        if (Kdim == embedDim && Vdim == embedDim)
        {
            InProjWeight = new Parameter(Tensor.Empty([3 * embedDim, embedDim], dtype, device));
            Init.XavierUniform(InProjWeight, generator: generator);
        }
        else
        {
            QProjWeight = new Parameter(Tensor.Empty([embedDim, embedDim], dtype, device));
            KProjWeight = new Parameter(Tensor.Empty([embedDim, Kdim], dtype, device));
            VProjWeight = new Parameter(Tensor.Empty([embedDim, Vdim], dtype, device));
            Init.XavierUniform(QProjWeight, generator: generator);
            Init.XavierUniform(KProjWeight, generator: generator);
            Init.XavierUniform(VProjWeight, generator: generator);
        }
        if (bias) InProjBias = new Parameter(Tensor.Zeros(new Shape(3 * embedDim), dtype, device));
        OutProj = new Linear(embedDim, embedDim, bias, dtype, generator, device);
        if (OutProj.Bias is { } outBias) Init.Zeros(outBias);
    }

    public int EmbedDim { get; }

    public int NumHeads { get; }

    /// <summary>The size of each head, <see cref="EmbedDim"/> / <see cref="NumHeads"/>.</summary>
    public int HeadDim => EmbedDim / NumHeads;

    public int Kdim { get; }

    public int Vdim { get; }

    /// <summary>Dropout probability on the attention weights in training mode.</summary>
    public double Dropout { get; }

    public bool BatchFirst { get; }

    /// <summary>[3E, E]: the query, key and value projections stacked; null when kdim or vdim differs from E.</summary>
    public Parameter? InProjWeight { get; set; }

    /// <summary>[E, E]; only when kdim or vdim differs from E.</summary>
    public Parameter? QProjWeight { get; set; }

    /// <summary>[E, kdim]; only when kdim or vdim differs from E.</summary>
    public Parameter? KProjWeight { get; set; }

    /// <summary>[E, vdim]; only when kdim or vdim differs from E.</summary>
    public Parameter? VProjWeight { get; set; }

    /// <summary>[3E]: the query, key and value biases stacked; null without bias.</summary>
    public Parameter? InProjBias { get; set; }

    /// <summary>The output projection, E → E.</summary>
    public Linear OutProj { get; set; }

    /// <summary>
    /// Attends from <paramref name="query"/> to <paramref name="key"/>/<paramref name="value"/>: query [L, N, E] (or
    /// [N, L, E] with <see cref="BatchFirst"/>, or unbatched [L, E]), key [S, N, kdim], value [S, N, vdim]. Returns the
    /// output, shaped as the query, and, when <paramref name="needWeights"/>, the attention weights [N, L, S] averaged
    /// over heads (or [N, H, L, S] per head), after dropout.
    /// </summary>
    /// <param name="keyPaddingMask">[N, S] (or [S] unbatched): Bool true marks a padding key to ignore; a float mask is added.</param>
    /// <param name="attnMask">[L, S] or [N·H, L, S]: Bool true marks a pair that may not attend; a float mask is added.</param>
    /// <param name="isCausal">Applies the causal mask (query i attends keys 0..i), combined with any other mask.</param>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null,
        bool needWeights = true, Tensor? attnMask = null, bool averageAttnWeights = true, bool isCausal = false,
        [CallerFilePath] string callerFile = "", [CallerLineNumber] int callerLine = 0)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        using (NodeOrigin.EnterModule(ScopeOrigin, callerFile, callerLine))
            return Attend(query, key, value, keyPaddingMask, needWeights, attnMask, averageAttnWeights, isCausal);
    }

    private (Tensor Output, Tensor? Weights) Attend(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, bool needWeights,
        Tensor? attnMask, bool averageAttnWeights, bool isCausal)
    {
        const string Op = "MultiheadAttention";
        bool batched = query.Rank == 3;
        if (query.Rank is not (2 or 3) || key.Rank != query.Rank || value.Rank != query.Rank)
            throw new ShapeMismatchException(Op, $"query, key and value must all be [L, N, E] (batched) or [L, E] (unbatched); got {query.Shape}, {key.Shape} and {value.Shape}");
        // Self-attention keeps query, key and value one tensor, so that Project can run one packed GEMM.
        bool self = ReferenceEquals(query, key) && ReferenceEquals(key, value);
        if (batched && BatchFirst)
        {
            query = query.Transpose(0, 1);
            key = self ? query : key.Transpose(0, 1);
            value = self ? query : value.Transpose(0, 1);
        }
        // From here: [L, N, E] (unbatched inputs get N = 1).
        if (!batched)
        {
            query = query.Unsqueeze(1);
            key = self ? query : key.Unsqueeze(1);
            value = self ? query : value.Unsqueeze(1);
            if (keyPaddingMask is not null) keyPaddingMask = keyPaddingMask.Unsqueeze(0);
        }
        int targetLength = query.Sizes[0], batch = query.Sizes[1], sourceLength = key.Sizes[0];
        if (query.Sizes[2] != EmbedDim || key.Sizes[2] != Kdim || value.Sizes[2] != Vdim)
            throw new ShapeMismatchException(Op, $"expects query, key and value features {EmbedDim}, {Kdim} and {Vdim}; got {query.Shape}, {key.Shape} and {value.Shape}");
        if (key.Sizes[1] != batch || value.Sizes[1] != batch || value.Sizes[0] != sourceLength)
            throw new ShapeMismatchException(Op, $"query {query.Shape}, key {key.Shape} and value {value.Shape} disagree in batch or source length");

        var (q, k, v) = Project(query, key, value);
        // [L, N, E] → [N, H, L, hd]: a view; the batched GEMMs read the strides in place.
        Tensor Heads(Tensor x, int length) => x.View(length, batch, NumHeads, HeadDim).Permute(1, 2, 0, 3);
        q = Heads(q, targetLength);
        k = Heads(k, sourceLength);
        v = Heads(v, sourceLength);

        var mask = MergeMasks(keyPaddingMask, attnMask, batch, targetLength, sourceLength, query);
        double p = IsTraining ? Dropout : 0;
        Tensor attended;
        Tensor? weights = null;
        if (needWeights)
        {
            // The weights themselves are asked for: compose them from differentiable ops (as PyTorch does on this path).
            Tensor? keep = mask is { DType: DType.Bool } ? mask : null;
            Tensor? additive = mask is { DType: DType.Bool } ? null : mask;
            var probabilities = Ops.ScaledDotProductAttentionOp.Probabilities(q, k, additive, keep, isCausal, 1 / Math.Sqrt(HeadDim));
            weights = p > 0 ? Functional.Dropout(probabilities, p, training: true, _generator) : probabilities;
            attended = weights.MatMul(v);
            if (averageAttnWeights) weights = weights.Mean(1);
            if (!batched) weights = weights.Squeeze(0);
        }
        else attended = Functional.ScaledDotProductAttention(q, k, v, mask, p, isCausal, generator: _generator);

        // [N, H, L, hd] → [L, N, E]
        var merged = attended.Permute(2, 0, 1, 3).Reshape(targetLength, batch, EmbedDim);
        var output = OutProj.Forward(merged);
        if (!batched) output = output.Squeeze(1);
        else if (BatchFirst) output = output.Transpose(0, 1);
        return (output, weights);
    }

    private (Tensor Q, Tensor K, Tensor V) Project(Tensor query, Tensor key, Tensor value)
    {
        int e = EmbedDim;
        Tensor? Bias(int i) => InProjBias?.Narrow(0, i * e, e);
        if (InProjWeight is { } packed)
        {
            // Self-attention: one [.., 3E] GEMM for all three projections.
            if (ReferenceEquals(query, key) && ReferenceEquals(key, value))
            {
                var qkv = Functional.Linear(query, packed, InProjBias);
                return (qkv.Narrow(-1, 0, e), qkv.Narrow(-1, e, e), qkv.Narrow(-1, 2 * e, e));
            }
            return (Functional.Linear(query, packed.Narrow(0, 0, e), Bias(0)),
                Functional.Linear(key, packed.Narrow(0, e, e), Bias(1)),
                Functional.Linear(value, packed.Narrow(0, 2 * e, e), Bias(2)));
        }
        return (Functional.Linear(query, QProjWeight!, Bias(0)), Functional.Linear(key, KProjWeight!, Bias(1)),
            Functional.Linear(value, VProjWeight!, Bias(2)));
    }

    /// <summary>
    /// One mask for SDPA, broadcastable to [N, H, L, S]: a Bool keep-mask when every given mask is Bool, else an additive
    /// float mask (a Bool one becoming 0 / −∞); null when none is given.
    /// </summary>
    private Tensor? MergeMasks(Tensor? keyPaddingMask, Tensor? attnMask, int batch, int targetLength, int sourceLength, Tensor like)
    {
        const string Op = "MultiheadAttention";
        Tensor? padding = null, pairs = null;
        if (keyPaddingMask is not null)
        {
            if (!keyPaddingMask.Sizes.AsSpan().SequenceEqual([batch, sourceLength]))
                throw new ShapeMismatchException(Op, $"keyPaddingMask must be [N, S] = [{batch}, {sourceLength}]; got {keyPaddingMask.Shape}");
            padding = keyPaddingMask.View(batch, 1, 1, sourceLength);
        }
        if (attnMask is not null)
        {
            if (attnMask.Sizes.AsSpan().SequenceEqual([targetLength, sourceLength])) pairs = attnMask;
            else if (attnMask.Sizes.AsSpan().SequenceEqual([batch * NumHeads, targetLength, sourceLength]))
                pairs = attnMask.View(batch, NumHeads, targetLength, sourceLength);
            else
                throw new ShapeMismatchException(Op, $"attnMask must be [L, S] = [{targetLength}, {sourceLength}] or [N·H, L, S] = " +
                    $"[{batch * NumHeads}, {targetLength}, {sourceLength}]; got {attnMask.Shape}");
        }
        if (padding is null && pairs is null) return null;
        if (padding is not { DType: not DType.Bool } && pairs is not { DType: not DType.Bool })
        {
            // Both Bool (or absent): keep where neither forbids.
            var forbidden = padding is null ? pairs! : pairs is null ? padding : padding.Or(pairs);
            return forbidden.Not();
        }
        Tensor Additive(Tensor m) => m.DType == DType.Bool
            ? Tensor.Where(m, double.NegativeInfinity, Tensor.Zeros(new Shape(), like.DType, like.Device))
            : m.To(like.DType);
        return padding is null ? Additive(pairs!) : pairs is null ? Additive(padding) : Additive(padding) + Additive(pairs);
    }

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture,
        $"embedDim: {EmbedDim}, numHeads: {NumHeads}, dropout: {Dropout}, kdim: {Kdim}, vdim: {Vdim}, batchFirst: {BatchFirst}");
}
