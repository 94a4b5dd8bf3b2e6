namespace Backprop.Backends.Cpu;

// Scans and sorts walk each slice along the dimension in order, one slice after another: a scan's running value and a
// sort's comparisons are inherently sequential, and doing them in a fixed order keeps the bits independent of the
// machine's vector width and core count.
public sealed partial class CpuBackend
{
    public void Cumsum(StridedView x, int dim, StridedView y) => Scan("Cumsum", x, dim, y, product: false);

    public void Cumprod(StridedView x, int dim, StridedView y) => Scan("Cumprod", x, dim, y, product: true);

    private static void Scan(string op, in StridedView x, int dim, in StridedView y, bool product)
    {
        CheckSameShape(op, x, y);
        switch (x.DType)
        {
            // float32 runs in a float64 accumulator, as PyTorch's CPU scans (its acc_type), and is rounded once per element.
            case DType.Float32: ScanTyped<float, double>(x, dim, y, product); break;
            case DType.Float64: ScanTyped<double, double>(x, dim, y, product); break;
            case DType.Int64: ScanTyped<long, long>(x, dim, y, product); break;
            default: throw new NotSupportedException($"{op}: dtype {x.DType.DisplayName()} is not supported.");
        }
    }

    private static void ScanTyped<T, TAccumulator>(in StridedView x, int dim, in StridedView y, bool product)
        where T : unmanaged, INumber<T> where TAccumulator : INumber<TAccumulator>
    {
        T[] source = Data<T>(x.Storage), target = Data<T>(y.Storage);
        int n = x.Shape[dim], xStride = x.Strides[dim], yStride = y.Strides[dim];
        int[] xBases = SliceBases(x, dim), yBases = SliceBases(y, dim);
        for (int s = 0; s < xBases.Length; s++)
        {
            var running = product ? TAccumulator.One : TAccumulator.Zero;
            for (int i = 0; i < n; i++)
            {
                var v = TAccumulator.CreateTruncating(source[xBases[s] + i * xStride]);
                running = product ? running * v : running + v;
                target[yBases[s] + i * yStride] = T.CreateTruncating(running);
            }
        }
    }

    /// <summary>The offset of element 0 of every slice along <paramref name="dim"/>, in row-major order of the other dims.</summary>
    private static int[] SliceBases(in StridedView view, int dim)
    {
        var shape = (int[])view.Shape.Clone();
        shape[dim] = 1;
        return StridedLoop.Offsets(new StridedView(view.Storage, shape, view.Strides, view.Offset, false));
    }

    public void Flip(StridedView x, int[] dims, StridedView y)
    {
        CheckSameShape("Flip", x, y);
        // A reversed dimension is the same storage read with a negated stride from its last element.
        var strides = (int[])x.Strides.Clone();
        int offset = x.Offset;
        foreach (int d in dims)
        {
            if (x.Shape[d] == 0) return;
            offset += (x.Shape[d] - 1) * strides[d];
            strides[d] = -strides[d];
        }
        Copy(new StridedView(x.Storage, x.Shape, strides, offset, false), y);
    }

    public void Roll(StridedView x, int dim, int shift, StridedView y)
    {
        CheckSameShape("Roll", x, y);
        int n = x.Shape[dim];
        if ((uint)shift >= (uint)Math.Max(n, 1))
            throw new ArgumentOutOfRangeException(nameof(shift), $"Roll: shift {shift} must lie in [0, {n}) for a dimension of size {n}.");
        if (n == 0) return;
        Copy(Narrow(x, dim, 0, n - shift), Narrow(y, dim, shift, n - shift));
        if (shift > 0) Copy(Narrow(x, dim, n - shift, shift), Narrow(y, dim, 0, shift));
    }

    private static StridedView Narrow(in StridedView view, int dim, int start, int length)
    {
        var shape = (int[])view.Shape.Clone();
        shape[dim] = length;
        return new StridedView(view.Storage, shape, view.Strides, view.Offset + start * view.Strides[dim], false);
    }

    public void Argsort(StridedView x, int dim, bool descending, StridedView indices)
    {
        CheckSameShape("Argsort", x, indices);
        CheckIndexOutput("Argsort", indices);
        var order = SortedSlices("Argsort", x, dim, descending);
        var target = Data<long>(indices.Storage);
        int n = x.Shape[dim], stride = indices.Strides[dim];
        var bases = SliceBases(indices, dim);
        for (int s = 0; s < bases.Length; s++)
            for (int i = 0; i < n; i++) target[bases[s] + i * stride] = order[s * n + i];
    }

    public void RankIndex(StridedView x, int dim, int rank, bool propagateNaN, StridedView index)
    {
        int n = x.Shape[dim];
        if ((uint)rank >= (uint)n)
            throw new ArgumentOutOfRangeException(nameof(rank), $"RankIndex: rank {rank} is out of range for a dimension of size {n}.");
        CheckIndexOutput("RankIndex", index);
        var order = SortedSlices("RankIndex", x, dim, descending: false);
        var nanCounts = propagateNaN ? NaNCounts(x, dim) : null;
        WritePerSlice(index, dim, s =>
        {
            // NaN sorts last, stably, so a slice's first NaN sits right after its numbers.
            int at = nanCounts is not null && nanCounts[s] > 0 ? n - nanCounts[s] : rank;
            return order[s * n + at];
        });
    }

    public void ModeIndex(StridedView x, int dim, StridedView index)
    {
        int n = x.Shape[dim];
        if (n == 0) throw new ArgumentException($"Mode: cannot take the mode over dimension {dim} of size 0 (shape {Shape.Format(x.Shape)}).");
        CheckIndexOutput("Mode", index);
        var order = SortedSlices("Mode", x, dim, descending: false);
        var same = SameValues(x, dim);
        WritePerSlice(index, dim, s =>
        {
            long best = order[s * n];
            int bestCount = 0, count = 0;
            for (int i = 0; i < n; i++)
            {
                count++;
                // A run of equal values ends here: it wins only with strictly more elements, so the smallest value wins ties.
                if (i == n - 1 || !same(s, order[s * n + i], order[s * n + i + 1]))
                {
                    if (count > bestCount) (best, bestCount) = (order[s * n + i], count);
                    count = 0;
                }
            }
            return best;
        });
    }

    private static void CheckIndexOutput(string op, in StridedView index)
    {
        if (index.DType != DType.Int64) throw new ArgumentException($"{op}: the index output must be int64; got {index.DType.DisplayName()}.");
    }

    private static void WritePerSlice(in StridedView index, int dim, Func<int, long> value)
    {
        var target = Data<long>(index.Storage);
        var bases = SliceBases(index, dim);
        for (int s = 0; s < bases.Length; s++) target[bases[s]] = value(s);
    }

    /// <summary>For each slice (row-major over the other dims), the positions along dim in sorted order, concatenated.</summary>
    private static long[] SortedSlices(string op, in StridedView x, int dim, bool descending) => x.DType switch
    {
        DType.Float32 => SortedSlicesTyped<float>(x, dim, descending),
        DType.Float64 => SortedSlicesTyped<double>(x, dim, descending),
        DType.Int64 => SortedSlicesTyped<long>(x, dim, descending),
        _ => throw new NotSupportedException($"{op}: dtype {x.DType.DisplayName()} is not supported."),
    };

    private static long[] SortedSlicesTyped<T>(in StridedView x, int dim, bool descending) where T : unmanaged, INumber<T>
    {
        var source = Data<T>(x.Storage);
        int n = x.Shape[dim], stride = x.Strides[dim];
        var bases = SliceBases(x, dim);
        var order = new long[bases.Length * n];
        var values = new T[n];
        var positions = new int[n];
        // Ties are broken by position, which makes the order total: the result is the stable sort whatever the algorithm.
        Comparison<int> compare = descending
            ? (a, b) => CompareNaNLast(values[b], values[a]) is var c && c != 0 ? c : a.CompareTo(b)
            : (a, b) => CompareNaNLast(values[a], values[b]) is var c && c != 0 ? c : a.CompareTo(b);
        for (int s = 0; s < bases.Length; s++)
        {
            for (int i = 0; i < n; i++)
            {
                values[i] = source[bases[s] + i * stride];
                positions[i] = i;
            }
            Array.Sort(positions, compare);
            for (int i = 0; i < n; i++) order[s * n + i] = positions[i];
        }
        return order;
    }

    /// <summary>Numbers by value (−0 equals +0), NaN after all of them and equal to each other.</summary>
    private static int CompareNaNLast<T>(T a, T b) where T : INumber<T>
    {
        bool aNaN = T.IsNaN(a), bNaN = T.IsNaN(b);
        if (aNaN || bNaN) return aNaN == bNaN ? 0 : aNaN ? 1 : -1;
        return a < b ? -1 : a > b ? 1 : 0;
    }

    private static int[] NaNCounts(in StridedView x, int dim)
    {
        var same = SameValues(x, dim);
        var bases = SliceBases(x, dim);
        var counts = new int[bases.Length];
        // A NaN is the only value not equal to itself.
        for (int s = 0; s < bases.Length; s++)
            for (int i = 0; i < x.Shape[dim]; i++)
                if (!same(s, i, i)) counts[s]++;
        return counts;
    }

    /// <summary>Whether positions a and b of slice s hold equal values (by ==: NaN equals nothing).</summary>
    private static Func<int, long, long, bool> SameValues(StridedView x, int dim) => x.DType switch
    {
        DType.Float32 => SameValuesTyped<float>(x, dim),
        DType.Float64 => SameValuesTyped<double>(x, dim),
        _ => SameValuesTyped<long>(x, dim),
    };

    private static Func<int, long, long, bool> SameValuesTyped<T>(StridedView x, int dim) where T : unmanaged, INumber<T>
    {
        var source = Data<T>(x.Storage);
        var bases = SliceBases(x, dim);
        int stride = x.Strides[dim];
        return (s, a, b) => source[bases[s] + (int)a * stride] == source[bases[s] + (int)b * stride];
    }
}
