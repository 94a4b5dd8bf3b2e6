namespace Backprop;

/// <summary>
/// One entry of a tensor indexer: an integer (selects, dropping the dimension), a range (slices),
/// <see cref="Ellipsis"/> (all remaining dims) or <see cref="NewAxis"/> (inserts a dimension of size 1).
/// <c>x[0, 1..3]</c>, <c>x[.., ^1]</c>, <c>x[TensorIndex.Ellipsis, 0]</c>.
/// </summary>
public readonly struct TensorIndex
{
    internal enum Kinds { Single, Span, Ellipsis, NewAxis }

    internal readonly Kinds Kind;
    internal readonly Index Single;
    internal readonly Range Span;

    private TensorIndex(Kinds kind, Index single = default, Range span = default)
    {
        Kind = kind;
        Single = single;
        Span = span;
    }

    public static TensorIndex Ellipsis { get; } = new(Kinds.Ellipsis);

    public static TensorIndex NewAxis { get; } = new(Kinds.NewAxis);

    public static implicit operator TensorIndex(int index) => new(Kinds.Single, index < 0 ? Index.FromEnd(-index) : Index.FromStart(index));

    public static implicit operator TensorIndex(Index index) => new(Kinds.Single, index);

    public static implicit operator TensorIndex(Range range) => new(Kinds.Span, span: range);
}
