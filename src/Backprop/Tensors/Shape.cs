using System.Collections;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// The sizes of a tensor's dimensions, outermost first. Immutable; a rank-0 shape is a scalar.
/// Write one as a collection expression: <c>Tensor.Zeros([2, 3], DType.Float64)</c>.
/// </summary>
[CollectionBuilder(typeof(Shape), nameof(Create))]
public readonly struct Shape : IEquatable<Shape>, IReadOnlyList<int>
{
    private static readonly int[] ScalarDims = [];
    private readonly int[]? _dims;

    public Shape(params int[] dims)
    {
        foreach (var d in dims)
            if (d < 0) throw new ArgumentException($"Shape {Format(dims)} has a negative size.");
        _dims = (int[])dims.Clone();
    }

    private Shape(int[] dims, bool _) => _dims = dims;

    /// <summary>Wraps an array the caller promises never to change again.</summary>
    internal static Shape Wrap(int[] dims) => new(dims, false);

    public static Shape Scalar => default;

    public static Shape Create(ReadOnlySpan<int> dims) => new(dims.ToArray());

    internal int[] Dims => _dims ?? ScalarDims;

    public int Rank => Dims.Length;

    public int Count => Dims.Length;

    /// <summary>Size of dimension <paramref name="dim"/>; negative dims count from the end.</summary>
    public int this[int dim] => Dims[NormalizeDim(dim, Rank)];

    public int NumElements => CountElements(Dims);

    public static implicit operator Shape(int[] dims) => new(dims);

    public ReadOnlySpan<int> AsSpan() => Dims;

    public int[] ToArray() => (int[])Dims.Clone();

    public bool Equals(Shape other) => Dims.AsSpan().SequenceEqual(other.Dims);

    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    public override string ToString() => Format(Dims);

    public IEnumerator<int> GetEnumerator() => ((IEnumerable<int>)Dims).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => Dims.GetEnumerator();

    internal static string Format(ReadOnlySpan<int> dims) => "[" + string.Join(", ", dims.ToArray()) + "]";

    internal static int CountElements(ReadOnlySpan<int> dims)
    {
        long n = 1;
        foreach (var d in dims) n *= d;
        if (n > int.MaxValue) throw new ArgumentException($"Shape {Format(dims)} has {n} elements; a CPU tensor holds at most {int.MaxValue}.");
        return (int)n;
    }

    /// <summary>Turns a possibly negative dim into an index in [0, rank).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NormalizeDim(int dim, int rank)
    {
        int d = dim < 0 ? dim + rank : dim;
        if ((uint)d >= (uint)rank)
            throw new ArgumentOutOfRangeException(nameof(dim), $"Dimension {dim} is out of range for a tensor of rank {rank} (expected {-rank} to {rank - 1}).");
        return d;
    }

    /// <summary>Row-major strides for a contiguous tensor of these sizes.</summary>
    internal static int[] ContiguousStrides(ReadOnlySpan<int> dims)
    {
        var strides = new int[dims.Length];
        int s = 1;
        for (int i = dims.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= Math.Max(dims[i], 1);
        }
        return strides;
    }

    /// <summary>The NumPy broadcast of two shapes; throws naming <paramref name="op"/> and both shapes when they do not broadcast.</summary>
    public static Shape Broadcast(Shape a, Shape b, string op)
    {
        var x = a.Dims;
        var y = b.Dims;
        if (x.AsSpan().SequenceEqual(y)) return a;
        int rank = Math.Max(x.Length, y.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int dx = i - (rank - x.Length) >= 0 ? x[i - (rank - x.Length)] : 1;
            int dy = i - (rank - y.Length) >= 0 ? y[i - (rank - y.Length)] : 1;
            if (dx != dy && dx != 1 && dy != 1)
                throw new ShapeMismatchException(op, $"shapes {a} and {b} do not broadcast (dimension {i}: {dx} vs {dy})");
            result[i] = dx == 1 ? dy : dx;
        }
        return Wrap(result);
    }
}

/// <summary>An op received tensors whose shapes it cannot combine. The message names the op and the shapes.</summary>
public sealed class ShapeMismatchException(string op, string detail) : ArgumentException($"{op}: {detail}.")
{
    public string Op { get; } = op;
}
