namespace Backprop;

/// <summary>
/// One entry of a tensor indexer, as in PyTorch: an integer (selects, dropping the dimension), a range (slices),
/// <see cref="Slice"/> (a slice with a step, which may be negative), <see cref="Ellipsis"/> (all remaining dims),
/// <see cref="NewAxis"/> (inserts a dimension of size 1), an Int64 tensor (advanced indexing) or <see cref="Mask"/>
/// (selects the elements where a mask is nonzero).
/// <c>x[0, 1..3]</c>, <c>x[.., ^1]</c>, <c>x[TensorIndex.Ellipsis, 0]</c>, <c>x[rows, cols]</c>, <c>x[TensorIndex.Mask(x &gt; 0)]</c>.
/// </summary>
public readonly struct TensorIndex
{
    internal enum Kinds { Single, Span, Ellipsis, NewAxis, Stepped, Tensor, Mask }

    internal readonly Kinds Kind;
    internal readonly Index Single;
    internal readonly Range Span;
    internal readonly int? Start, Stop;
    internal readonly int Step;
    internal readonly Tensor? Indices;

    private TensorIndex(Kinds kind, Index single = default, Range span = default, int? start = null, int? stop = null, int step = 1, Tensor? indices = null)
    {
        Kind = kind;
        Single = single;
        Span = span;
        Start = start;
        Stop = stop;
        Step = step;
        Indices = indices;
    }

    public static TensorIndex Ellipsis { get; } = new(Kinds.Ellipsis);

    public static TensorIndex NewAxis { get; } = new(Kinds.NewAxis);

    /// <summary>
    /// Python's <c>start:stop:step</c>. A negative step walks backwards with NumPy's meaning (<c>x[::-1]</c> reverses;
    /// a missing start is the last element, a missing stop runs past the first). PyTorch refuses negative steps; here
    /// the reversed part is a copy (as <see cref="Tensor.Flip"/>), not a view, because views keep positive strides.
    /// </summary>
    public static TensorIndex Slice(int? start = null, int? stop = null, int step = 1)
    {
        if (step == 0) throw new ArgumentException("TensorIndex.Slice: the step must not be zero.");
        return new(Kinds.Stepped, start: start, stop: stop, step: step);
    }

    /// <summary>
    /// A mask over the next <c>mask.Rank</c> dims, of exactly their sizes: selects the elements where it is nonzero,
    /// in row-major order, as PyTorch's boolean-mask indexing (comparisons return 0/1 tensors, which work as masks).
    /// </summary>
    public static TensorIndex Mask(Tensor mask) => new(Kinds.Mask, indices: mask);

    public static implicit operator TensorIndex(int index) => new(Kinds.Single, index < 0 ? Index.FromEnd(-index) : Index.FromStart(index));

    public static implicit operator TensorIndex(Index index) => new(Kinds.Single, index);

    public static implicit operator TensorIndex(Range range) => new(Kinds.Span, span: range);

    /// <summary>
    /// An Int64 tensor of positions along one dim (negative counts from the end; several broadcast together), or a Bool
    /// tensor, which is a mask (<c>x[x.Gt(0)]</c>, as in PyTorch).
    /// </summary>
    public static implicit operator TensorIndex(Tensor indices)
    {
        if (indices.DType == DType.Bool) return Mask(indices);
        if (indices.DType != DType.Int64)
            throw new ArgumentException(
                $"Indexer: index tensors must be int64 (positions) or bool (a mask); got {indices.DType.DisplayName()} of shape {indices.Shape}. " +
                "To select where a tensor of another dtype is nonzero, pass TensorIndex.Mask(mask).");
        return new(Kinds.Tensor, indices: indices);
    }

    /// <summary>How many of the indexed tensor's dims this entry consumes.</summary>
    internal int Consumes => Kind switch
    {
        Kinds.Single or Kinds.Span or Kinds.Stepped or Kinds.Tensor => 1,
        Kinds.Mask => Indices!.Rank,
        _ => 0,
    };

    /// <summary>Whether indexing with this entry gives a view of the input (else the result is a copy).</summary>
    internal bool IsBasic => Kind is not (Kinds.Tensor or Kinds.Mask) && !(Kind == Kinds.Stepped && Step < 0);
}
