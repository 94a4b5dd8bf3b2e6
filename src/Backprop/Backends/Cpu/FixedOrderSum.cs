using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Backprop.Backends.Cpu;

/// <summary>
/// A float64 sum of a sequence of float32 or float64 values in one fixed order (see docs/architecture.md,
/// Note [Accurate reductions]): the sequence is cut into blocks of <see cref="BlockLength"/>; within a block,
/// element j goes into lane j mod <see cref="LaneCount"/>; a block's lanes fold by halving (lane i += lane i + h for
/// h = 8, 4, 2, 1); the block sums add up in order. A SIMD register holds a few whole lanes and performs on each the
/// same IEEE additions as the scalar code, so the result is the same to the last bit at any vector width.
/// </summary>
internal struct FixedOrderSum
{
    public const int LaneCount = 16;
    public const int BlockLength = 4096;

    private Lanes _lanes;
    private double _total;
    private int _position;

    [InlineArray(LaneCount)]
    internal struct Lanes
    {
        private double _element;
    }

    /// <summary>The sum so far: the finished blocks plus the fold of the current one.</summary>
    public readonly double Total
    {
        get
        {
            if (_position == 0) return _total;
            var lanes = _lanes;
            return _total + Fold(lanes);
        }
    }

    /// <summary>
    /// Folds one block's lanes by halving (lane i takes lane i + half, for half = 8, 4, 2, 1) and returns the result;
    /// the vector path makes the same additions in the same pairs, so the same bits.
    /// </summary>
    internal static double Fold(Span<double> lanes)
    {
        if (Vector256.IsHardwareAccelerated && lanes.Length == LaneCount)
        {
            ref double l = ref MemoryMarshal.GetReference(lanes);
            var quarter = (Vector256.LoadUnsafe(ref l, 0) + Vector256.LoadUnsafe(ref l, 8))
                + (Vector256.LoadUnsafe(ref l, 4) + Vector256.LoadUnsafe(ref l, 12));
            var pair = quarter.GetLower() + quarter.GetUpper();
            return pair.GetElement(0) + pair.GetElement(1);
        }
        for (int half = LaneCount / 2; half >= 1; half /= 2)
            for (int i = 0; i < half; i++) lanes[i] += lanes[i + half];
        return lanes[0];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double value)
    {
        _lanes[_position & (LaneCount - 1)] += value;
        if (++_position == BlockLength) EndBlock();
    }

    private void EndBlock()
    {
        _total += Fold(_lanes);
        _lanes = default;
        _position = 0;
    }

    /// <summary>Adds <paramref name="count"/> elements of <paramref name="data"/> from <paramref name="offset"/>, <paramref name="stride"/> apart.</summary>
    public void Add<T>(T[] data, int offset, int count, int stride) where T : unmanaged, INumberBase<T>
    {
        if (stride == 1) Add<T>(data.AsSpan(offset, count));
        else if (stride == 0) AddRepeated(double.CreateTruncating(data[offset]), count);
        else
            for (int i = 0; i < count; i++) Add(double.CreateTruncating(data[offset + i * stride]));
    }

    /// <summary>Adds the values in order.</summary>
    public void Add<T>(ReadOnlySpan<T> values) where T : unmanaged, INumberBase<T>
    {
        int i = 0;
        while (i < values.Length)
        {
            int chunk = Math.Min(values.Length - i, BlockLength - _position) & ~(LaneCount - 1);
            if ((_position & (LaneCount - 1)) == 0 && chunk > 0)
            {
                AddAligned(values.Slice(i, chunk));
                i += chunk;
                _position += chunk;
                if (_position == BlockLength) EndBlock();
            }
            else Add(double.CreateTruncating(values[i++]));
        }
    }

    /// <summary>
    /// Adds the products x[i]·y[i], each rounded in T as a scalar product would be, in order: the same bits as
    /// <c>Add(double.CreateTruncating(x[i] * y[i]))</c> for each i, vectorised.
    /// </summary>
    public void AddProducts<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> y) where T : unmanaged, INumberBase<T>
    {
        int i = 0;
        while (i < x.Length)
        {
            int chunk = Math.Min(x.Length - i, BlockLength - _position) & ~(LaneCount - 1);
            if ((_position & (LaneCount - 1)) == 0 && chunk > 0)
            {
                AddProductsAligned(x.Slice(i, chunk), y.Slice(i, chunk));
                i += chunk;
                _position += chunk;
                if (_position == BlockLength) EndBlock();
            }
            else
            {
                Add(double.CreateTruncating(x[i] * y[i]));
                i++;
            }
        }
    }

    /// <summary>Adds <paramref name="value"/> <paramref name="count"/> times (a stride-0, broadcast row).</summary>
    public void AddRepeated(double value, int count)
    {
        int i = 0;
        while (i < count)
        {
            int chunk = Math.Min(count - i, BlockLength - _position) & ~(LaneCount - 1);
            if ((_position & (LaneCount - 1)) == 0 && chunk > 0)
            {
                for (int k = 0; k < chunk; k += LaneCount)
                    for (int lane = 0; lane < LaneCount; lane++) _lanes[lane] += value;
                i += chunk;
                _position += chunk;
                if (_position == BlockLength) EndBlock();
            }
            else
            {
                Add(value);
                i++;
            }
        }
    }

    /// <summary>Adds a whole number of lane groups starting at lane 0, within one block.</summary>
    private void AddAligned<T>(ReadOnlySpan<T> values) where T : unmanaged, INumberBase<T>
    {
        ref double lanes = ref Unsafe.As<Lanes, double>(ref _lanes);
        nuint n = (nuint)values.Length;
        if (typeof(T) == typeof(float))
        {
            ref float x = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(values));
            if (Vector256.IsHardwareAccelerated)
            {
                var a0 = Vector256.LoadUnsafe(ref lanes, 0); var a1 = Vector256.LoadUnsafe(ref lanes, 4);
                var a2 = Vector256.LoadUnsafe(ref lanes, 8); var a3 = Vector256.LoadUnsafe(ref lanes, 12);
                for (nuint k = 0; k < n; k += LaneCount)
                {
                    var (lo0, hi0) = Vector256.Widen(Vector256.LoadUnsafe(ref x, k));
                    var (lo1, hi1) = Vector256.Widen(Vector256.LoadUnsafe(ref x, k + 8));
                    a0 += lo0; a1 += hi0; a2 += lo1; a3 += hi1;
                }
                a0.StoreUnsafe(ref lanes, 0); a1.StoreUnsafe(ref lanes, 4); a2.StoreUnsafe(ref lanes, 8); a3.StoreUnsafe(ref lanes, 12);
                return;
            }
            if (Vector128.IsHardwareAccelerated)
            {
                var a0 = Vector128.LoadUnsafe(ref lanes, 0); var a1 = Vector128.LoadUnsafe(ref lanes, 2);
                var a2 = Vector128.LoadUnsafe(ref lanes, 4); var a3 = Vector128.LoadUnsafe(ref lanes, 6);
                var a4 = Vector128.LoadUnsafe(ref lanes, 8); var a5 = Vector128.LoadUnsafe(ref lanes, 10);
                var a6 = Vector128.LoadUnsafe(ref lanes, 12); var a7 = Vector128.LoadUnsafe(ref lanes, 14);
                for (nuint k = 0; k < n; k += LaneCount)
                {
                    var (l0, h0) = Vector128.Widen(Vector128.LoadUnsafe(ref x, k));
                    var (l1, h1) = Vector128.Widen(Vector128.LoadUnsafe(ref x, k + 4));
                    var (l2, h2) = Vector128.Widen(Vector128.LoadUnsafe(ref x, k + 8));
                    var (l3, h3) = Vector128.Widen(Vector128.LoadUnsafe(ref x, k + 12));
                    a0 += l0; a1 += h0; a2 += l1; a3 += h1; a4 += l2; a5 += h2; a6 += l3; a7 += h3;
                }
                a0.StoreUnsafe(ref lanes, 0); a1.StoreUnsafe(ref lanes, 2); a2.StoreUnsafe(ref lanes, 4); a3.StoreUnsafe(ref lanes, 6);
                a4.StoreUnsafe(ref lanes, 8); a5.StoreUnsafe(ref lanes, 10); a6.StoreUnsafe(ref lanes, 12); a7.StoreUnsafe(ref lanes, 14);
                return;
            }
        }
        else if (typeof(T) == typeof(double))
        {
            ref double x = ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(values));
            if (Vector256.IsHardwareAccelerated)
            {
                var a0 = Vector256.LoadUnsafe(ref lanes, 0); var a1 = Vector256.LoadUnsafe(ref lanes, 4);
                var a2 = Vector256.LoadUnsafe(ref lanes, 8); var a3 = Vector256.LoadUnsafe(ref lanes, 12);
                for (nuint k = 0; k < n; k += LaneCount)
                {
                    a0 += Vector256.LoadUnsafe(ref x, k); a1 += Vector256.LoadUnsafe(ref x, k + 4);
                    a2 += Vector256.LoadUnsafe(ref x, k + 8); a3 += Vector256.LoadUnsafe(ref x, k + 12);
                }
                a0.StoreUnsafe(ref lanes, 0); a1.StoreUnsafe(ref lanes, 4); a2.StoreUnsafe(ref lanes, 8); a3.StoreUnsafe(ref lanes, 12);
                return;
            }
        }
        for (int k = 0; k < values.Length; k += LaneCount)
            for (int lane = 0; lane < LaneCount; lane++) _lanes[lane] += double.CreateTruncating(values[k + lane]);
    }

    /// <summary><see cref="AddProducts"/> for a whole number of lane groups starting at lane 0, within one block.</summary>
    private void AddProductsAligned<T>(ReadOnlySpan<T> xs, ReadOnlySpan<T> ys) where T : unmanaged, INumberBase<T>
    {
        ref double lanes = ref Unsafe.As<Lanes, double>(ref _lanes);
        nuint n = (nuint)xs.Length;
        if (typeof(T) == typeof(float) && Vector256.IsHardwareAccelerated)
        {
            ref float x = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(xs));
            ref float y = ref Unsafe.As<T, float>(ref MemoryMarshal.GetReference(ys));
            var a0 = Vector256.LoadUnsafe(ref lanes, 0); var a1 = Vector256.LoadUnsafe(ref lanes, 4);
            var a2 = Vector256.LoadUnsafe(ref lanes, 8); var a3 = Vector256.LoadUnsafe(ref lanes, 12);
            for (nuint k = 0; k < n; k += LaneCount)
            {
                var (lo0, hi0) = Vector256.Widen(Vector256.LoadUnsafe(ref x, k) * Vector256.LoadUnsafe(ref y, k));
                var (lo1, hi1) = Vector256.Widen(Vector256.LoadUnsafe(ref x, k + 8) * Vector256.LoadUnsafe(ref y, k + 8));
                a0 += lo0; a1 += hi0; a2 += lo1; a3 += hi1;
            }
            a0.StoreUnsafe(ref lanes, 0); a1.StoreUnsafe(ref lanes, 4); a2.StoreUnsafe(ref lanes, 8); a3.StoreUnsafe(ref lanes, 12);
            return;
        }
        if (typeof(T) == typeof(double) && Vector256.IsHardwareAccelerated)
        {
            ref double x = ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(xs));
            ref double y = ref Unsafe.As<T, double>(ref MemoryMarshal.GetReference(ys));
            var a0 = Vector256.LoadUnsafe(ref lanes, 0); var a1 = Vector256.LoadUnsafe(ref lanes, 4);
            var a2 = Vector256.LoadUnsafe(ref lanes, 8); var a3 = Vector256.LoadUnsafe(ref lanes, 12);
            for (nuint k = 0; k < n; k += LaneCount)
            {
                a0 += Vector256.LoadUnsafe(ref x, k) * Vector256.LoadUnsafe(ref y, k);
                a1 += Vector256.LoadUnsafe(ref x, k + 4) * Vector256.LoadUnsafe(ref y, k + 4);
                a2 += Vector256.LoadUnsafe(ref x, k + 8) * Vector256.LoadUnsafe(ref y, k + 8);
                a3 += Vector256.LoadUnsafe(ref x, k + 12) * Vector256.LoadUnsafe(ref y, k + 12);
            }
            a0.StoreUnsafe(ref lanes, 0); a1.StoreUnsafe(ref lanes, 4); a2.StoreUnsafe(ref lanes, 8); a3.StoreUnsafe(ref lanes, 12);
            return;
        }
        for (int k = 0; k < xs.Length; k += LaneCount)
            for (int lane = 0; lane < LaneCount; lane++) _lanes[lane] += double.CreateTruncating(xs[k + lane] * ys[k + lane]);
    }
}

/// <summary>
/// Many <see cref="FixedOrderSum"/>s side by side, one per column of a row-major block: each row adds element c to
/// column c's sum. Column c follows exactly the order of a single FixedOrderSum over its values, so summing a
/// tensor over its leading dimension gives the same bits as summing each column alone; only the memory access
/// differs (whole rows, vectorised across columns).
/// </summary>
internal sealed class FixedOrderColumnSums
{
    /// <summary>Columns per pass: sixteen lanes of this many doubles stay in the L1 cache.</summary>
    public const int MaxColumns = 256;

    private readonly double[] _lanes;
    private readonly double[] _totals;
    private int _columns;
    private int _position;

    /// <param name="capacity">The most columns one pass will take, at most <see cref="MaxColumns"/>.</param>
    public FixedOrderColumnSums(int capacity)
    {
        _lanes = new double[FixedOrderSum.LaneCount * capacity];
        _totals = new double[capacity];
    }

    /// <summary>Starts a new set of <paramref name="columns"/> sums at zero.</summary>
    public void Reset(int columns)
    {
        _columns = columns;
        _position = 0;
        _lanes.AsSpan(0, FixedOrderSum.LaneCount * columns).Clear();
        _totals.AsSpan(0, columns).Clear();
    }

    public void AddRow<T>(ReadOnlySpan<T> row) where T : unmanaged, INumberBase<T>
    {
        var lane = _lanes.AsSpan((_position & (FixedOrderSum.LaneCount - 1)) * _columns, _columns);
        if (typeof(T) == typeof(double)) TensorPrimitives.Add(lane, MemoryMarshal.Cast<T, double>(row), lane);
        else AddWidened(MemoryMarshal.Cast<T, float>(row), lane);
        if (++_position == FixedOrderSum.BlockLength) EndBlock();
    }

    /// <summary>The finished sums (call once, after the last row).</summary>
    public ReadOnlySpan<double> Totals()
    {
        if (_position > 0) EndBlock();
        return _totals.AsSpan(0, _columns);
    }

    // The same halving fold as FixedOrderSum.Fold, for every column at once (element-wise, so the same bits).
    private void EndBlock()
    {
        int w = _columns;
        for (int half = FixedOrderSum.LaneCount / 2; half >= 1; half /= 2)
            for (int i = 0; i < half; i++)
            {
                var target = _lanes.AsSpan(i * w, w);
                TensorPrimitives.Add(target, _lanes.AsSpan((i + half) * w, w), target);
            }
        var totals = _totals.AsSpan(0, w);
        TensorPrimitives.Add(totals, _lanes.AsSpan(0, w), totals);
        _lanes.AsSpan(0, FixedOrderSum.LaneCount * w).Clear();
        _position = 0;
    }

    /// <summary>acc[i] += (double)x[i], element-wise.</summary>
    private static void AddWidened(ReadOnlySpan<float> x, Span<double> acc)
    {
        int i = 0;
        ref float xs = ref MemoryMarshal.GetReference(x);
        ref double a = ref MemoryMarshal.GetReference(acc);
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= x.Length; i += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref xs, (nuint)i));
                (Vector256.LoadUnsafe(ref a, (nuint)i) + lo).StoreUnsafe(ref a, (nuint)i);
                (Vector256.LoadUnsafe(ref a, (nuint)i + 4) + hi).StoreUnsafe(ref a, (nuint)i + 4);
            }
        else if (Vector128.IsHardwareAccelerated)
            for (; i + 4 <= x.Length; i += 4)
            {
                var (lo, hi) = Vector128.Widen(Vector128.LoadUnsafe(ref xs, (nuint)i));
                (Vector128.LoadUnsafe(ref a, (nuint)i) + lo).StoreUnsafe(ref a, (nuint)i);
                (Vector128.LoadUnsafe(ref a, (nuint)i + 2) + hi).StoreUnsafe(ref a, (nuint)i + 2);
            }
        for (; i < x.Length; i++) acc[i] += x[i];
    }
}
