using System.Runtime.CompilerServices;

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
        var target = Data<long>(indices.Storage);
        int stride = indices.Strides[dim];
        var bases = SliceBases(indices, dim);
        ForEachSortedSlice("Argsort", x, dim, descending, (s, sorted) =>
        {
            for (int i = 0; i < sorted.Length; i++) target[bases[s] + i * stride] = sorted[i].Position;
        });
    }

    public void RankIndex(StridedView x, int dim, int rank, bool propagateNaN, StridedView index)
    {
        int n = x.Shape[dim];
        if ((uint)rank >= (uint)n)
            throw new ArgumentOutOfRangeException(nameof(rank), $"RankIndex: rank {rank} is out of range for a dimension of size {n}.");
        CheckIndexOutput("RankIndex", index);
        var target = Data<long>(index.Storage);
        var bases = SliceBases(index, dim);
        ForEachSortedSlice("RankIndex", x, dim, descending: false, (s, sorted) =>
        {
            // NaN sorts last, stably, so a slice's first NaN sits right after its numbers.
            int numbers = sorted.Length;
            while (propagateNaN && numbers > 0 && sorted[numbers - 1].Key == NaNKey) numbers--;
            target[bases[s]] = sorted[numbers < sorted.Length ? numbers : rank].Position;
        });
    }

    public void ModeIndex(StridedView x, int dim, StridedView index)
    {
        int n = x.Shape[dim];
        if (n == 0) throw new ArgumentException($"Mode: cannot take the mode over dimension {dim} of size 0 (shape {Shape.Format(x.Shape)}).");
        CheckIndexOutput("Mode", index);
        var target = Data<long>(index.Storage);
        var bases = SliceBases(index, dim);
        ForEachSortedSlice("Mode", x, dim, descending: false, (s, sorted) =>
        {
            int best = 0, bestCount = 0, count = 0;
            for (int i = 0; i < sorted.Length; i++)
            {
                count++;
                // A run of equal values (NaN equals nothing) ends here: it wins only with strictly more elements, so
                // the smallest value wins a tie; its position is the run's last.
                if (i == sorted.Length - 1 || sorted[i].Key != sorted[i + 1].Key || sorted[i].Key == NaNKey)
                {
                    if (count > bestCount) (best, bestCount) = (i, count);
                    count = 0;
                }
            }
            target[bases[s]] = sorted[best].Position;
        });
    }

    private static void CheckIndexOutput(string op, in StridedView index)
    {
        if (index.DType != DType.Int64) throw new ArgumentException($"{op}: the index output must be int64; got {index.DType.DisplayName()}.");
    }

    /// <summary>An element of a slice: its order key and its position along the dimension.</summary>
    private readonly record struct SortEntry(ulong Key, int Position);

    /// <summary>By key, then by position: a total order, so the result is the stable sort whatever the algorithm.</summary>
    private readonly struct StableOrder : IComparer<SortEntry>
    {
        public int Compare(SortEntry a, SortEntry b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : a.Position.CompareTo(b.Position);
    }

    private delegate void SortedSliceAction(int slice, ReadOnlySpan<SortEntry> sorted);

    /// <summary>
    /// Sorts each slice along <paramref name="dim"/> (numbered row-major over the other dims) and hands it to
    /// <paramref name="action"/>, possibly on several threads at once: each call must write only its own slice's output.
    /// </summary>
    private static void ForEachSortedSlice(string op, in StridedView x, int dim, bool descending, SortedSliceAction action)
    {
        switch (x.DType)
        {
            case DType.Float32: ForEachSortedSliceTyped<float>(x, dim, descending, action); break;
            case DType.Float64: ForEachSortedSliceTyped<double>(x, dim, descending, action); break;
            case DType.Int64: ForEachSortedSliceTyped<long>(x, dim, descending, action); break;
            default: throw new NotSupportedException($"{op}: dtype {x.DType.DisplayName()} is not supported.");
        }
    }

    private static void ForEachSortedSliceTyped<T>(in StridedView x, int dim, bool descending, SortedSliceAction action)
        where T : unmanaged, INumber<T>
    {
        var bases = SliceBases(x, dim);
        var body = new SortSlices<T>(Data<T>(x.Storage), bases, x.Shape[dim], x.Strides[dim], descending, action);
        // Slices are independent and each is sorted whole by one thread, so the result does not depend on the split.
        CpuParallel.For(bases.Length, ref body, grain: Math.Max(1, ParallelSortMin / Math.Max(x.Shape[dim], 1)));
    }

    /// <summary>About the elements worth a thread of their own when sorting.</summary>
    private const int ParallelSortMin = 1 << 14;

    private readonly struct SortSlices<T>(T[] source, int[] bases, int n, int stride, bool descending, SortedSliceAction action)
        : IParallelBody where T : unmanaged, INumber<T>
    {
        public void Execute(int start, int end)
        {
            var entries = new SortEntry[n];
            for (int s = start; s < end; s++)
            {
                for (int i = 0; i < n; i++)
                {
                    var key = OrderKey(source[bases[s] + i * stride]);
                    // Complementing the key reverses the order (NaN first) and leaves the tie-break by position ascending.
                    entries[i] = new SortEntry(descending ? ~key : key, i);
                }
                entries.AsSpan().Sort(new StableOrder());
                action(s, entries);
            }
        }
    }

    /// <summary>The key of NaN: above every number's key.</summary>
    private const ulong NaNKey = ulong.MaxValue;

    /// <summary>
    /// An unsigned key in the order of the values: −0 and +0 share a key, every NaN has <see cref="NaNKey"/>.
    /// Int64 keeps its full range (it is not widened to double).
    /// </summary>
    private static ulong OrderKey<T>(T value) where T : unmanaged, INumber<T>
    {
        if (typeof(T) == typeof(long)) return (ulong)Unsafe.As<T, long>(ref value) ^ 0x8000_0000_0000_0000;
        double v = double.CreateTruncating(value);
        if (double.IsNaN(v)) return NaNKey;
        long bits = BitConverter.DoubleToInt64Bits(v == 0 ? 0.0 : v);
        // IEEE order: positive numbers sort by their bits; negative numbers in reverse, below all positives.
        return bits < 0 ? ~(ulong)bits : (ulong)bits | 0x8000_0000_0000_0000;
    }
}
