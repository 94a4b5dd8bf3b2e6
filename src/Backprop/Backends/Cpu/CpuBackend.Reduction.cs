namespace Backprop.Backends.Cpu;

public sealed partial class CpuBackend
{
    public void Reduce(ReduceOp op, StridedView x, StridedView y) => Reduce(op, x, y, divisor: 1);

    public void Sum(StridedView x, StridedView y, double divisor) => Reduce(ReduceOp.Sum, x, y, divisor);

    private static void Reduce(ReduceOp op, in StridedView x, in StridedView y, double divisor)
    {
        if (x.DType.IsHalf())
        {
            ReduceInFloat32(op, x, y, divisor);
            return;
        }
        CheckSameDType(op, x, y);
        if (x.Rank != y.Rank)
            throw new ShapeMismatchException(op.ToString(), $"reduction output {Shape.Format(y.Shape)} must keep the rank of input {Shape.Format(x.Shape)}");
        // Broadcast y back over x with stride 0 in every reduced dimension; the reduction is then an
        // element-wise accumulation y ⊕= x over x's shape, which StridedLoop coalesces into long rows.
        var yStrides = new int[x.Rank];
        for (int d = 0; d < x.Rank; d++)
        {
            if (y.Shape[d] == x.Shape[d]) yStrides[d] = y.Strides[d];
            else if (y.Shape[d] == 1) yStrides[d] = 0;
            else throw new ShapeMismatchException(op.ToString(), $"reduction output {Shape.Format(y.Shape)} does not fit input {Shape.Format(x.Shape)}");
        }
        if (divisor != 1 && (op != ReduceOp.Sum || !x.DType.IsFloatingPoint()))
            throw new ArgumentException($"{op}: only a floating-point Sum can divide its result; got a divisor of {divisor} for {x.DType.DisplayName()}.");
        var target = new StridedView(y.Storage, x.Shape, yStrides, y.Offset, false);
        switch (x.DType, op)
        {
            case (DType.Float32, ReduceOp.Sum or ReduceOp.Prod): AccumulateInFloat64<float>(op == ReduceOp.Sum, x, y, divisor); break;
            case (DType.Float64, ReduceOp.Sum or ReduceOp.Prod): AccumulateInFloat64<double>(op == ReduceOp.Sum, x, y, divisor); break;
            case (DType.Float32, _): ReduceTyped<float>(op, x, y, target); break;
            case (DType.Float64, _): ReduceTyped<double>(op, x, y, target); break;
            // Integer sums and products wrap exactly, in any order.
            case (DType.Int64, _): ReduceTyped<long>(op, x, y, target); break;
            case (DType.Int32, _): ReduceTyped<int>(op, x, y, target); break;
            default: throw Unsupported(op.ToString(), x.DType);
        }
    }

    /// <summary>
    /// Floating-point Sum and Prod, accumulated in float64 and rounded once (after the division, for a mean). A sum
    /// runs in the fixed order of <see cref="FixedOrderSum"/> over each output's elements taken in row-major order of
    /// their reduced index, whatever the layout; a product multiplies in that order. See docs/architecture.md,
    /// Note [Accurate reductions].
    /// </summary>
    private static void AccumulateInFloat64<T>(bool sum, in StridedView x, in StridedView y, double divisor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = Data<T>(x.Storage);
        var output = Data<T>(y.Storage);
        if (x.NumElements == 0)
        {
            FillTyped(y, T.CreateTruncating((sum ? 0.0 : 1.0) / divisor));
            return;
        }
        if (sum && x.IsContiguous && y.IsContiguous && SplitsIntoBlocks(x, y, out int blocks, out int reducedCount, out int inner))
        {
            SumContiguousBlocks(data, x.Offset, blocks, reducedCount, inner, output, y.Offset, divisor);
            return;
        }
        var kept = new List<(int Size, int XStride, int YStride)>();
        var reduced = new List<(int Size, int Stride)>();
        for (int d = 0; d < x.Rank; d++)
        {
            if (x.Shape[d] == 1) continue;
            if (y.Shape[d] == 1)
            {
                // Neighbours in the reduced index merge when their strides line up.
                if (reduced.Count > 0 && reduced[^1].Stride == x.Strides[d] * x.Shape[d])
                    reduced[^1] = (reduced[^1].Size * x.Shape[d], x.Strides[d]);
                else reduced.Add((x.Shape[d], x.Strides[d]));
            }
            else kept.Add((x.Shape[d], x.Strides[d], y.Strides[d]));
        }
        // When the reduced elements are not contiguous but a kept dimension is, sum whole rows of that dimension at
        // once (a column sum: bias gradients, batch statistics, broadcast gradients).
        int columnDim = sum && (reduced.Count == 0 || reduced[^1].Stride != 1) ? kept.FindIndex(k => k.XStride == 1) : -1;
        if (columnDim >= 0)
        {
            var column = kept[columnDim];
            kept.RemoveAt(columnDim);
            var columns = new FixedOrderColumnSums(Math.Min(FixedOrderColumnSums.MaxColumns, column.Size));
            var outer = Odometer.Over(kept);
            var rows = Odometer.Over(reduced);
            for (int o = 0; o < outer.Count; o++, outer.Next())
                for (int c0 = 0; c0 < column.Size; c0 += FixedOrderColumnSums.MaxColumns)
                {
                    int width = Math.Min(FixedOrderColumnSums.MaxColumns, column.Size - c0);
                    columns.Reset(width);
                    rows.Reset();
                    for (int j = 0; j < rows.Count; j++, rows.Next())
                        columns.AddRow<T>(data.AsSpan(outer.XOffset + x.Offset + rows.XOffset + c0, width));
                    var totals = columns.Totals();
                    for (int c = 0; c < width; c++)
                        output[y.Offset + outer.YOffset + (c0 + c) * column.YStride] = T.CreateTruncating(totals[c] / divisor);
                }
            return;
        }
        // Otherwise each output walks its own elements: the innermost reduced dimension as one strided row.
        var (rowLength, rowStride) = reduced.Count > 0 ? reduced[^1] : (1, 0);
        if (reduced.Count > 0) reduced.RemoveAt(reduced.Count - 1);
        var outputs = Odometer.Over(kept);
        var starts = Odometer.Over(reduced);
        for (int o = 0; o < outputs.Count; o++, outputs.Next())
        {
            double result;
            starts.Reset();
            if (sum)
            {
                var accumulator = new FixedOrderSum();
                for (int r = 0; r < starts.Count; r++, starts.Next())
                    accumulator.Add(data, x.Offset + outputs.XOffset + starts.XOffset, rowLength, rowStride);
                result = accumulator.Total;
            }
            else
            {
                result = 1;
                for (int r = 0; r < starts.Count; r++, starts.Next())
                {
                    int start = x.Offset + outputs.XOffset + starts.XOffset;
                    for (int i = 0; i < rowLength; i++) result *= double.CreateTruncating(data[start + i * rowStride]);
                }
            }
            output[y.Offset + outputs.YOffset] = T.CreateTruncating(result / divisor);
        }
    }

    [ThreadStatic] private static FixedOrderColumnSums? t_columnSums;

    /// <summary>
    /// Whether a contiguous x is [outer, reduced, inner] once its size-1 dims are dropped: kept dims, then the reduced
    /// ones, then kept dims again (a full sum, row sums, column sums). Such reductions, most of those in training
    /// (loss means, bias gradients), take a path without per-call allocation.
    /// </summary>
    private static bool SplitsIntoBlocks(in StridedView x, in StridedView y, out int outer, out int reducedCount, out int inner)
    {
        outer = reducedCount = inner = 1;
        int phase = 0; // 0: kept dims before the reduced ones, 1: reduced dims, 2: kept dims after them
        for (int d = 0; d < x.Rank; d++)
        {
            if (x.Shape[d] == 1) continue;
            bool isReduced = y.Shape[d] == 1;
            if (isReduced && phase == 2) return false;
            if (isReduced) { phase = 1; reducedCount *= x.Shape[d]; }
            else if (phase == 0) outer *= x.Shape[d];
            else { phase = 2; inner *= x.Shape[d]; }
        }
        return true;
    }

    /// <summary>
    /// Sums over the middle dim of a contiguous [outer, reduced, inner] block into y's [outer, inner] elements, in the
    /// same fixed order as the general path (each output's elements in row-major order of their reduced index).
    /// </summary>
    private static void SumContiguousBlocks<T>(T[] data, int offset, int outer, int reducedCount, int inner, T[] output, int yOffset, double divisor)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (inner == 1)
        {
            for (int o = 0; o < outer; o++)
            {
                var accumulator = new FixedOrderSum();
                accumulator.Add<T>(data.AsSpan(offset + o * reducedCount, reducedCount));
                output[yOffset + o] = T.CreateTruncating(accumulator.Total / divisor);
            }
            return;
        }
        // Column sums in bands: a column's sum adds its rows in the same order whatever band holds it, so bands of any
        // width, run by any thread, give the same bits. Large inputs (a bias gradient over thousands of rows) are
        // split across the cores, in bands narrow enough that every participant gets some.
        long elements = (long)outer * reducedCount * inner;
        int band = FixedOrderColumnSums.MaxColumns;
        if (elements >= ParallelColumnSumMin)
            while (band > MinColumnBand && (long)outer * ((inner + band - 1) / band) < 2L * CpuParallel.ThreadCount) band /= 2;
        var bands = new ColumnBands<T>(data, offset, reducedCount, inner, band, output, yOffset, divisor);
        int count = outer * ((inner + band - 1) / band);
        if (elements < ParallelColumnSumMin) bands.Execute(0, count);
        else CpuParallel.For(count, ref bands);
    }

    private const long ParallelColumnSumMin = 1 << 17;
    private const int MinColumnBand = 32;

    private readonly struct ColumnBands<T>(T[] data, int offset, int reducedCount, int inner, int band, T[] output, int yOffset, double divisor)
        : IParallelBody where T : unmanaged, IFloatingPointIeee754<T>
    {
        public void Execute(int start, int end)
        {
            var columns = t_columnSums ??= new FixedOrderColumnSums(FixedOrderColumnSums.MaxColumns);
            int bandsPerBlock = (inner + band - 1) / band;
            for (int item = start; item < end; item++)
            {
                int o = item / bandsPerBlock, c0 = item % bandsPerBlock * band;
                int width = Math.Min(band, inner - c0);
                columns.Reset(width);
                int rowStart = offset + o * reducedCount * inner + c0;
                for (int j = 0; j < reducedCount; j++) columns.AddRow<T>(data.AsSpan(rowStart + j * inner, width));
                var totals = columns.Totals();
                for (int c = 0; c < width; c++) output[yOffset + o * inner + c0 + c] = T.CreateTruncating(totals[c] / divisor);
            }
        }
    }

    /// <summary>Walks a multi-index in row-major order (last dimension fastest), tracking an offset into x and into y.</summary>
    private sealed class Odometer
    {
        private readonly int[] _sizes, _xStrides, _yStrides, _index;

        private Odometer(int[] sizes, int[] xStrides, int[] yStrides)
        {
            _sizes = sizes;
            _xStrides = xStrides;
            _yStrides = yStrides;
            _index = new int[sizes.Length];
            Count = 1;
            foreach (var size in sizes) Count *= size;
        }

        public static Odometer Over(List<(int Size, int XStride, int YStride)> dims) =>
            new([.. dims.Select(d => d.Size)], [.. dims.Select(d => d.XStride)], [.. dims.Select(d => d.YStride)]);

        public static Odometer Over(List<(int Size, int Stride)> dims) =>
            new([.. dims.Select(d => d.Size)], [.. dims.Select(d => d.Stride)], new int[dims.Count]);

        public int Count { get; }
        public int XOffset { get; private set; }
        public int YOffset { get; private set; }

        public void Reset()
        {
            Array.Clear(_index);
            XOffset = YOffset = 0;
        }

        public void Next()
        {
            for (int d = _sizes.Length - 1; d >= 0; d--)
            {
                XOffset += _xStrides[d];
                YOffset += _yStrides[d];
                if (++_index[d] < _sizes[d]) return;
                XOffset -= _xStrides[d] * _sizes[d];
                YOffset -= _yStrides[d] * _sizes[d];
                _index[d] = 0;
            }
        }
    }

    private static void ReduceTyped<T>(ReduceOp op, in StridedView x, in StridedView y, in StridedView target)
        where T : unmanaged, INumber<T>, IMinMaxValue<T>
    {
        T identity = op switch
        {
            ReduceOp.Sum => T.Zero,
            ReduceOp.Prod => T.One,
            ReduceOp.Max => Lowest<T>(),
            _ => Highest<T>(),
        };
        FillTyped(y, identity);
        if (x.NumElements == 0) return;
        if (y.NumElements == 1 && x.IsContiguous)
        {
            var all = Span<T>(x);
            var result = op switch
            {
                ReduceOp.Sum => TensorPrimitives.Sum<T>(all),
                ReduceOp.Prod => TensorPrimitives.Product<T>(all),
                ReduceOp.Max => TensorPrimitives.Max<T>(all),
                _ => TensorPrimitives.Min<T>(all),
            };
            Data<T>(y.Storage)[y.Offset] = result;
            return;
        }
        var kernel = new ReduceRows<T>(op, Data<T>(y.Storage), Data<T>(x.Storage));
        StridedLoop.Run(ref kernel, x.Shape, target, x);
    }

    private static T Lowest<T>() where T : INumber<T>, IMinMaxValue<T> =>
        typeof(T) == typeof(float) ? T.CreateTruncating(float.NegativeInfinity) :
        typeof(T) == typeof(double) ? T.CreateTruncating(double.NegativeInfinity) : T.MinValue;

    private static T Highest<T>() where T : INumber<T>, IMinMaxValue<T> =>
        typeof(T) == typeof(float) ? T.CreateTruncating(float.PositiveInfinity) :
        typeof(T) == typeof(double) ? T.CreateTruncating(double.PositiveInfinity) : T.MaxValue;

    private readonly struct ReduceRows<T>(ReduceOp op, T[] y, T[] x) : IRowKernel where T : unmanaged, INumber<T>
    {
        public void Row(int n, int o0, int s0, int o1, int s1, int o2, int s2, int o3, int s3)
        {
            if (s0 == 0)
            {
                // The whole row folds into one output element.
                T acc;
                if (s1 == 1)
                {
                    var row = x.AsSpan(o1, n);
                    acc = op switch
                    {
                        ReduceOp.Sum => TensorPrimitives.Sum<T>(row),
                        ReduceOp.Prod => TensorPrimitives.Product<T>(row),
                        ReduceOp.Max => TensorPrimitives.Max<T>(row),
                        _ => TensorPrimitives.Min<T>(row),
                    };
                }
                else
                {
                    acc = x[o1];
                    for (int i = 1; i < n; i++) acc = Combine(acc, x[o1 + i * s1]);
                }
                y[o0] = Combine(y[o0], acc);
                return;
            }
            if (s0 == 1 && s1 == 1)
            {
                var target = y.AsSpan(o0, n);
                var row = x.AsSpan(o1, n);
                switch (op)
                {
                    case ReduceOp.Sum: TensorPrimitives.Add(target, row, target); break;
                    case ReduceOp.Prod: TensorPrimitives.Multiply(target, row, target); break;
                    case ReduceOp.Max: TensorPrimitives.Max(target, row, target); break;
                    default: TensorPrimitives.Min(target, row, target); break;
                }
                return;
            }
            for (int i = 0; i < n; i++) y[o0 + i * s0] = Combine(y[o0 + i * s0], x[o1 + i * s1]);
        }

        private T Combine(T a, T b) => op switch
        {
            ReduceOp.Sum => a + b,
            ReduceOp.Prod => a * b,
            // NaN wins, as it does in TensorPrimitives.Max/Min, so a NaN is never hidden by a reduction.
            ReduceOp.Max => T.IsNaN(a) || T.IsNaN(b) ? (T.IsNaN(a) ? a : b) : (a >= b ? a : b),
            _ => T.IsNaN(a) || T.IsNaN(b) ? (T.IsNaN(a) ? a : b) : (a <= b ? a : b),
        };
    }

    public void ArgReduce(bool max, StridedView x, int dim, StridedView indices)
    {
        if (indices.DType != DType.Int64) throw new ArgumentException("ArgReduce writes Int64 indices.");
        switch (x.DType)
        {
            case DType.Float32: ArgReduceTyped<float>(max, x, dim, indices); break;
            case DType.Float64: ArgReduceTyped<double>(max, x, dim, indices); break;
            case DType.Int64: ArgReduceTyped<long>(max, x, dim, indices); break;
            case DType.Int32: ArgReduceTyped<int>(max, x, dim, indices); break;
            default: throw Unsupported(max ? "ArgMax" : "ArgMin", x.DType);
        }
    }

    private static void ArgReduceTyped<T>(bool max, in StridedView x, int dim, in StridedView indices)
        where T : unmanaged, INumber<T>
    {
        var data = Data<T>(x.Storage);
        var output = Data<long>(indices.Storage);
        int n = x.Shape[dim];
        int stride = x.Strides[dim];
        var bases = StridedLoop.Offsets(SqueezeToOne(x, dim));
        var outOffsets = StridedLoop.Offsets(indices);
        for (int r = 0; r < bases.Length; r++)
        {
            int o = bases[r];
            long best = 0;
            if (stride == 1 && n > 0)
            {
                var row = data.AsSpan(o, n);
                best = max ? TensorPrimitives.IndexOfMax<T>(row) : TensorPrimitives.IndexOfMin<T>(row);
            }
            else
            {
                T bestValue = data[o];
                for (int i = 1; i < n && !T.IsNaN(bestValue); i++)
                {
                    T v = data[o + i * stride];
                    if (T.IsNaN(v) || (max ? v > bestValue : v < bestValue)) { bestValue = v; best = i; }
                }
            }
            output[outOffsets[r]] = best;
        }
    }

    /// <summary>The same view with dimension <paramref name="dim"/> narrowed to its first element.</summary>
    internal static StridedView SqueezeToOne(in StridedView x, int dim)
    {
        var shape = (int[])x.Shape.Clone();
        shape[dim] = 1;
        return new StridedView(x.Storage, shape, x.Strides, x.Offset, false);
    }

    public void Softmax(StridedView x, int dim, StridedView y, bool log)
    {
        CheckSameShape(log ? "LogSoftmax" : "Softmax", x, y);
        switch (x.DType)
        {
            case DType.Float32: SoftmaxTyped<float>(x, dim, y, log); break;
            case DType.Float64: SoftmaxTyped<double>(x, dim, y, log); break;
            default: throw Unsupported("Softmax", x.DType);
        }
    }

    private static void SoftmaxTyped<T>(in StridedView x, int dim, in StridedView y, bool log)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[dim];
        if (n == 0 || x.NumElements == 0) return;
        var xs = Data<T>(x.Storage);
        var ys = Data<T>(y.Storage);
        bool rowsContiguous = x.Strides[dim] == 1 && y.Strides[dim] == 1;
        var xBases = StridedLoop.Offsets(SqueezeToOne(x, dim));
        var yBases = StridedLoop.Offsets(SqueezeToOne(y, dim));
        var buffer = rowsContiguous ? null : new T[n];
        var exps = log ? new T[n] : null;
        for (int r = 0; r < xBases.Length; r++)
        {
            Span<T> row;
            if (rowsContiguous)
            {
                xs.AsSpan(xBases[r], n).CopyTo(ys.AsSpan(yBases[r], n));
                row = ys.AsSpan(yBases[r], n);
            }
            else
            {
                row = buffer;
                for (int i = 0; i < n; i++) row[i] = xs[xBases[r] + i * x.Strides[dim]];
            }
            T m = TensorPrimitives.Max<T>(row);
            // An all −∞ row subtracts 0 instead of −∞ (its exps are 0 and 0/0 gives NaN, as PyTorch's does); a +∞ entry
            // is subtracted as it is, so ∞ − ∞ makes the row NaN, as in PyTorch.
            if (T.IsNegativeInfinity(m)) m = T.Zero;
            TensorPrimitives.Subtract(row, m, row);
            if (log)
            {
                // log softmax = (x − m) − log Σ e^(x − m); no exp result is ever divided or logged on its own.
                TensorPrimitives.Exp(row, exps);
                var denominator = new FixedOrderSum();
                denominator.Add<T>(exps);
                TensorPrimitives.Subtract(row, T.CreateTruncating(Math.Log(denominator.Total)), row);
            }
            else
            {
                TensorPrimitives.Exp(row, row);
                var denominator = new FixedOrderSum();
                denominator.Add<T>(row);
                TensorPrimitives.Divide(row, T.CreateTruncating(denominator.Total), row);
            }
            if (!rowsContiguous)
                for (int i = 0; i < n; i++) ys[yBases[r] + i * y.Strides[dim]] = row[i];
        }
    }
}
