using System.Buffers;

namespace Backprop.Backends.Cpu;

/// <remarks>
/// Every convolution runs sample by sample, samples split into contiguous ranges across cores, each range with its
/// own scratch. Stride-1 convolutions of maps big enough for its register tiles go to <see cref="DirectConvolution"/>
/// (see docs/architecture.md, Note [Convolution kernels]); the rest build one sample's im2col matrix (C·kh·kw × OH·OW,
/// tens of KiB for typical layers) in a pooled scratch buffer, consumed by the backend's GEMM while it is still in
/// cache, so no batch-sized column buffer is ever allocated. Weight gradients keep one partial sum per fixed chunk of
/// samples.
/// </remarks>
public sealed partial class CpuBackend
{
    /// <summary>Below this many multiply-adds a convolution runs on the calling thread.</summary>
    private const long MinParallelWork = 1 << 20;

    public void Conv2d(StridedView x, StridedView weight, StridedView? bias, StridedView y, Window2d window, int groups)
    {
        CheckConvolution("Conv2d", x, weight, y, window, groups);
        CheckConvBias("Conv2d", bias, y);
        switch (x.DType)
        {
            case DType.Float16 or DType.BFloat16: Conv2dInFloat32(x, weight, bias, y, window, groups); break;
            case DType.Float32: Conv2dTyped<float>(x, weight, bias, y, window, groups); break;
            case DType.Float64: Conv2dTyped<double>(x, weight, bias, y, window, groups); break;
            default: throw Unsupported("Conv2d", x.DType);
        }
    }

    public void ConvTranspose2d(StridedView x, StridedView weight, StridedView? bias, StridedView y, Window2d window, int groups)
    {
        CheckConvolution("ConvTranspose2d", y, weight, x, window, groups);
        CheckConvBias("ConvTranspose2d", bias, y);
        switch (x.DType)
        {
            case DType.Float16 or DType.BFloat16: ConvTranspose2dInFloat32(x, weight, bias, y, window, groups); break;
            case DType.Float32: ConvTranspose2dTyped<float>(x, weight, bias, y, window, groups); break;
            case DType.Float64: ConvTranspose2dTyped<double>(x, weight, bias, y, window, groups); break;
            default: throw Unsupported("ConvTranspose2d", x.DType);
        }
    }

    public void Conv2dWeightGrad(StridedView x, StridedView gradOutput, StridedView gradWeight, Window2d window, int groups)
    {
        CheckConvolution("Conv2dWeightGrad", x, gradWeight, gradOutput, window, groups);
        switch (x.DType)
        {
            case DType.Float16 or DType.BFloat16: Conv2dWeightGradInFloat32(x, gradOutput, gradWeight, window, groups); break;
            case DType.Float32: Conv2dWeightGradTyped<float>(x, gradOutput, gradWeight, window, groups); break;
            case DType.Float64: Conv2dWeightGradTyped<double>(x, gradOutput, gradWeight, window, groups); break;
            default: throw Unsupported("Conv2dWeightGrad", x.DType);
        }
    }

    // Half precision converts the operands to float32 on the fly and rounds the result once (float32 accumulation),
    // as MatMul does: the CPU has no half-precision arithmetic the runtime exposes (Note [Half precision]).
    private delegate void Convolution(StridedView x, StridedView weight, StridedView? bias, StridedView y, Window2d window, int groups);

    private static void Conv2dInFloat32(in StridedView x, in StridedView weight, in StridedView? bias, in StridedView y, Window2d window, int groups) =>
        ConvolveInFloat32("Conv2d", Instance.Conv2dTyped<float>, x, weight, bias, y, window, groups);

    private static void ConvTranspose2dInFloat32(in StridedView x, in StridedView weight, in StridedView? bias, in StridedView y, Window2d window, int groups) =>
        ConvolveInFloat32("ConvTranspose2d", Instance.ConvTranspose2dTyped<float>, x, weight, bias, y, window, groups);

    private static void ConvolveInFloat32(string kernel, Convolution float32Kernel, in StridedView x, in StridedView weight, in StridedView? bias,
        in StridedView y, Window2d window, int groups)
    {
        CheckSameDType(kernel, weight, x);
        CheckSameDType(kernel, y, x);
        var wide = Scratch(y);
        float32Kernel(Widened(x), Widened(weight), bias is { } b ? Widened(b) : null, wide, window, groups);
        Instance.Copy(wide, y);
    }

    private static void Conv2dWeightGradInFloat32(in StridedView x, in StridedView gradOutput, in StridedView gradWeight, Window2d window, int groups)
    {
        CheckSameDType("Conv2dWeightGrad", gradOutput, x);
        CheckSameDType("Conv2dWeightGrad", gradWeight, x);
        var wide = Scratch(gradWeight);
        Instance.Conv2dWeightGradTyped<float>(Widened(x), Widened(gradOutput), wide, window, groups);
        Instance.Copy(wide, gradWeight);
    }

    /// <summary>Checks the shapes of a convolution from <paramref name="image"/> [N, C, H, W] to <paramref name="map"/> [N, O, OH, OW].</summary>
    private static void CheckConvolution(string kernel, in StridedView image, in StridedView weight, in StridedView map, Window2d window, int groups)
    {
        CheckSameDType(kernel, image, weight);
        CheckSameDType(kernel, image, map);
        bool ok = image.Rank == 4 && weight.Rank == 4 && map.Rank == 4 && groups >= 1
            && image.Shape[0] == map.Shape[0] && weight.Shape[0] == map.Shape[1] && map.Shape[1] % groups == 0
            && weight.Shape[1] * groups == image.Shape[1]
            && weight.Shape[2] == window.Kernel.Height && weight.Shape[3] == window.Kernel.Width;
        if (!ok)
            throw new ShapeMismatchException(kernel,
                $"input {Shape.Format(image.Shape)}, weight {Shape.Format(weight.Shape)} and output {Shape.Format(map.Shape)} do not form a convolution with {window} and groups = {groups}");
    }

    private static void CheckConvBias(string kernel, in StridedView? bias, in StridedView y)
    {
        if (bias is not { } b) return;
        CheckSameDType(kernel, b, y);
        if (b.Rank != 1 || b.Shape[0] != y.Shape[1])
            throw new ShapeMismatchException(kernel, $"bias {Shape.Format(b.Shape)} must hold one value per output channel ({y.Shape[1]})");
    }

    private void Conv2dTyped<T>(StridedView x, StridedView weight, StridedView? bias, StridedView y, Window2d window, int groups)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3];
        int o = y.Shape[1], outH = y.Shape[2], outW = y.Shape[3], l = outH * outW;
        int cg = c / groups, og = o / groups, k = cg * window.Kernel.Height * window.Kernel.Width;
        var weights = Matrices<T>(weight, groups, og, k);
        var output = y.IsContiguous ? y : StridedView.Contiguous(Allocate(y.DType, y.NumElements, zeroed: false), y.Shape);
        var biasValues = bias is { } bv ? ReadVector<T>(bv) : null;
        bool pointwise = window.Kernel == new Size2d(1, 1) && window.Stride == new Size2d(1, 1) && window.Padding == new Size2d(0, 0)
            && outH == h && outW == w && !SampleMatricesNeedCopy(x);
        if (!pointwise && DirectConvolution.Supports<T>(window, outH, outW))
        {
            DirectConvolution.Forward(Data<T>(x.Storage), x.Offset, x.Strides, x.Shape, Data<T>(weights.Storage), weights.Offset, biasValues,
                Data<T>(output.Storage), output.Offset, o, window, groups, window.Padding.Height, window.Padding.Width, outH, outW, RangesOf);
            if (!y.IsContiguous) Copy(output, y);
            return;
        }
        ForRanges(n, (long)o * k * l, (_, start, end) =>
        {
            T[]? scratch = pointwise ? null : ArrayPool<T>.Shared.Rent(c * k / cg * l);
            try
            {
                var columns = scratch is null ? null : Wrap(scratch);
                for (int s = start; s < end; s++)
                {
                    var sampleColumns = columns is null
                        ? SampleMatrices<T>(x, s, groups, scratchOwner: null)
                        : UnfoldSample<T>(x, s, window, outH, outW, scratch!, columns, groups);
                    int sampleOffset = output.Offset + s * o * l;
                    var target = new StridedView(output.Storage, [groups, og, l], [og * l, l, 1], sampleOffset, false);
                    if (biasValues is not null)
                    {
                        var data = Data<T>(output.Storage);
                        for (int oc = 0; oc < o; oc++) data.AsSpan(sampleOffset + oc * l, l).Fill(biasValues[oc]);
                    }
                    MatMul(weights, sampleColumns, target, accumulate: biasValues is not null);
                }
            }
            finally
            {
                if (scratch is not null) ArrayPool<T>.Shared.Return(scratch);
            }
        });
        if (!y.IsContiguous) Copy(output, y);
    }

    private void ConvTranspose2dTyped<T>(StridedView x, StridedView weight, StridedView? bias, StridedView y, Window2d window, int groups)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1], h = x.Shape[2], w = x.Shape[3], l = h * w;
        int o = y.Shape[1], outH = y.Shape[2], outW = y.Shape[3];
        int cg = c / groups, og = o / groups, kernel = window.Kernel.Height * window.Kernel.Width, k = og * kernel;
        if (DirectConvolution.Supports<T>(window, outH, outW))
        {
            // With stride 1 the transpose is a convolution of x, padded by (k − 1)·d − p, with the kernel flipped and
            // its channel roles swapped.
            var flipped = FlippedTransposedWeight<T>(weight, groups);
            var result = y.IsContiguous ? y : StridedView.Contiguous(Allocate(y.DType, y.NumElements, zeroed: false), y.Shape);
            int padTop = (window.Kernel.Height - 1) * window.Dilation.Height - window.Padding.Height;
            int padLeft = (window.Kernel.Width - 1) * window.Dilation.Width - window.Padding.Width;
            DirectConvolution.Forward(Data<T>(x.Storage), x.Offset, x.Strides, x.Shape, flipped, 0, bias is { } b ? ReadVector<T>(b) : null,
                Data<T>(result.Storage), result.Offset, o, window, groups, padTop, padLeft, outH, outW, RangesOf);
            if (!y.IsContiguous) Copy(result, y);
            return;
        }
        // Per group, the weight is [cg, k]; its transpose is read in place.
        var w0 = Matrices<T>(weight, groups, cg, k);
        var weightsT = new StridedView(w0.Storage, [groups, k, cg], [w0.Strides[0], 1, k], w0.Offset, false);
        var output = y.IsContiguous ? y : StridedView.Contiguous(Allocate(y.DType, y.NumElements, zeroed: false), y.Shape);
        var biasValues = bias is { } bv ? ReadVector<T>(bv) : null;
        int sampleSize = o * outH * outW;
        ForRanges(n, (long)c * k * l, (_, start, end) =>
        {
            T[] scratch = ArrayPool<T>.Shared.Rent(o * kernel * l);
            T[]? inputCopy = SampleMatricesNeedCopy(x) ? ArrayPool<T>.Shared.Rent(c * l) : null;
            try
            {
                var columns = new StridedView(Wrap(scratch), [groups, k, l], [k * l, l, 1], 0, false);
                var data = Data<T>(output.Storage);
                for (int s = start; s < end; s++)
                {
                    MatMul(weightsT, SampleMatrices<T>(x, s, groups, inputCopy), columns, accumulate: false);
                    var image = data.AsSpan(output.Offset + s * sampleSize, sampleSize);
                    Im2Col.Fold<T>(scratch.AsSpan(0, o * kernel * l), image, o, outH, outW, window, h, w);
                    if (biasValues is not null)
                        for (int oc = 0; oc < o; oc++)
                        {
                            var plane = image.Slice(oc * outH * outW, outH * outW);
                            TensorPrimitives.Add(plane, biasValues[oc], plane);
                        }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
                if (inputCopy is not null) ArrayPool<T>.Shared.Return(inputCopy);
            }
        });
        if (!y.IsContiguous) Copy(output, y);
    }

    private void Conv2dWeightGradTyped<T>(StridedView x, StridedView g, StridedView gradWeight, Window2d window, int groups)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x.Shape[0], c = x.Shape[1];
        int o = g.Shape[1], outH = g.Shape[2], outW = g.Shape[3], l = outH * outW;
        int cg = c / groups, og = o / groups, k = cg * window.Kernel.Height * window.Kernel.Width;
        int size = o * k;
        if (DirectConvolution.SupportsWeightGrad<T>(window, outH, outW, cg))
        {
            var sums = ArrayPool<T>.Shared.Rent(size);
            try
            {
                DirectConvolution.WeightGrad(Data<T>(x.Storage), x.Offset, x.Strides, x.Shape, Data<T>(g.Storage), g.Offset, g.Strides, g.Shape,
                    sums, window, groups, RangesOf);
                Copy(StridedView.Contiguous(Wrap(sums), gradWeight.Shape), gradWeight);
            }
            finally
            {
                ArrayPool<T>.Shared.Return(sums);
            }
            return;
        }
        // Fixed chunks of samples, each with its own partial sum, so the result does not depend on the thread count.
        int parts = Math.Max(1, (n + WeightGradChunk - 1) / WeightGradChunk);
        // A tiny result (the first layer of a CNN: 8 × 9) with a long inner dimension is a set of dot products of
        // contiguous rows; a packed GEMM would spend most of each micro-tile on padding there.
        bool dots = og * k <= SmallWeightGradient;
        // One partial sum per range of samples, added up in range order at the end, so the result does not depend on
        // which thread finishes first.
        var partials = ArrayPool<T>.Shared.Rent(parts * size);
        partials.AsSpan(0, parts * size).Clear();
        try
        {
            var partialStorage = Wrap(partials);
            ForRanges(n, (long)o * k * l, (part, start, end) =>
            {
                T[] scratch = ArrayPool<T>.Shared.Rent(c * k / cg * l);
                T[]? gradCopy = SampleMatricesNeedCopy(g) ? ArrayPool<T>.Shared.Rent(o * l) : null;
                try
                {
                    var columns = Wrap(scratch);
                    var sum = new StridedView(partialStorage, [groups, og, k], [og * k, k, 1], part * size, false);
                    for (int s = start; s < end; s++)
                    {
                        UnfoldSample<T>(x, s, window, outH, outW, scratch, columns, groups);
                        var gradients = SampleMatrices<T>(g, s, groups, gradCopy);
                        if (dots && gradients.Strides[2] == 1)
                            AccumulateDots(Data<T>(gradients.Storage), gradients.Offset, gradients.Strides, scratch, partials, part * size, groups, og, k, l);
                        else
                            MatMul(gradients, new StridedView(columns, [groups, l, k], [k * l, 1, l], 0, false), sum, accumulate: true);
                    }
                }
                finally
                {
                    ArrayPool<T>.Shared.Return(scratch);
                    if (gradCopy is not null) ArrayPool<T>.Shared.Return(gradCopy);
                }
            }, parts);
            var total = partials.AsSpan(0, size);
            for (int part = 1; part < parts; part++) TensorPrimitives.Add(total, partials.AsSpan(part * size, size), total);
            Copy(StridedView.Contiguous(partialStorage, gradWeight.Shape), gradWeight);
        }
        finally
        {
            ArrayPool<T>.Shared.Return(partials);
        }
    }

    /// <summary>Samples per partial sum of a weight gradient.</summary>
    private const int WeightGradChunk = 8;

    /// <summary>A transposed convolution's weight [C, O/groups, kh, kw] as the weight of the convolution it equals at stride 1: [O, C/groups, kh, kw], each kernel turned by 180°.</summary>
    private static T[] FlippedTransposedWeight<T>(in StridedView weight, int groups) where T : unmanaged
    {
        int c = weight.Shape[0], og = weight.Shape[1], kh = weight.Shape[2], kw = weight.Shape[3], cg = c / groups;
        var source = Data<T>(weight.Storage);
        var st = weight.Strides;
        var flipped = new T[groups * og * cg * kh * kw];
        for (int g = 0; g < groups; g++)
            for (int ol = 0; ol < og; ol++)
                for (int cl = 0; cl < cg; cl++)
                    for (int i = 0; i < kh; i++)
                        for (int j = 0; j < kw; j++)
                            flipped[((((g * og + ol) * cg + cl) * kh + i) * kw) + j] =
                                source[weight.Offset + (g * cg + cl) * st[0] + ol * st[1] + (kh - 1 - i) * st[2] + (kw - 1 - j) * st[3]];
        return flipped;
    }

    /// <summary><see cref="ForRanges"/> as a delegate, for the kernels in other classes.</summary>
    private static readonly Action<int, long, Action<int, int, int>> RangesOf = (count, cost, body) => ForRanges(count, cost, body);

    /// <summary>Largest per-group weight gradient (Og·C/groups·kh·kw) computed as dot products instead of a GEMM.</summary>
    private const int SmallWeightGradient = 128;

    /// <summary>sum[g, o, k] += Σ over positions of gradients[g, o, ·] · columns[g, k, ·], one dot product per weight.</summary>
    private static void AccumulateDots<T>(T[] gradients, int origin, int[] strides, T[] columns, T[] sum, int sumOffset, int groups, int og, int k, int l)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int gi = 0; gi < groups; gi++)
            for (int oc = 0; oc < og; oc++)
            {
                var row = gradients.AsSpan(origin + gi * strides[0] + oc * strides[1], l);
                int target = sumOffset + (gi * og + oc) * k;
                for (int kk = 0; kk < k; kk++) sum[target + kk] += TensorPrimitives.Dot<T>(row, columns.AsSpan((gi * k + kk) * l, l));
            }
    }

    /// <summary>Writes sample s's im2col matrix into scratch and returns it as [groups, C/groups·kh·kw, OH·OW].</summary>
    private static StridedView UnfoldSample<T>(in StridedView x, int s, Window2d window, int outH, int outW, T[] scratch, Storage columns, int groups)
        where T : unmanaged, INumber<T>
    {
        int c = x.Shape[1], l = outH * outW, k = c / groups * window.Kernel.Height * window.Kernel.Width;
        var xs = x.Strides;
        Im2Col.Unfold<T>(Data<T>(x.Storage), x.Offset + s * xs[0], (xs[1], xs[2], xs[3]), c, x.Shape[2], x.Shape[3],
            scratch.AsSpan(0, groups * k * l), window, outH, outW);
        return new StridedView(columns, [groups, k, l], [k * l, l, 1], 0, false);
    }

    /// <summary>Whether a sample of this [N, C, H, W] view must be copied to be seen as [C, H·W] matrices.</summary>
    private static bool SampleMatricesNeedCopy(in StridedView v) =>
        v.Shape[2] != 1 && v.Shape[3] != 1 && v.Strides[2] != v.Shape[3] * v.Strides[3];

    /// <summary>
    /// Sample s of an [N, C, H, W] view as [groups, C/groups, H·W] matrices: a view when H and W merge into one dim,
    /// else a copy into <paramref name="scratchOwner"/>.
    /// </summary>
    private StridedView SampleMatrices<T>(in StridedView v, int s, int groups, T[]? scratchOwner) where T : unmanaged
    {
        int c = v.Shape[1], h = v.Shape[2], w = v.Shape[3], cg = c / groups;
        var st = v.Strides;
        int origin = v.Offset + s * st[0];
        if (!SampleMatricesNeedCopy(v))
        {
            int positionStride = w != 1 ? st[3] : st[2];
            return new StridedView(v.Storage, [groups, cg, h * w], [cg * st[1], st[1], positionStride], origin, false);
        }
        var copy = StridedView.Contiguous(Wrap(scratchOwner!), [c, h, w]);
        Copy(new StridedView(v.Storage, [c, h, w], [st[1], st[2], st[3]], origin, false), copy);
        return new StridedView(copy.Storage, [groups, cg, h * w], [cg * h * w, h * w, 1], 0, false);
    }

    /// <summary>A weight [rows·groups, …] as contiguous [groups, rows, cols] matrices (copied if it is not contiguous).</summary>
    private StridedView Matrices<T>(in StridedView weight, int groups, int rows, int cols) where T : unmanaged
    {
        var source = weight;
        if (!weight.IsContiguous)
        {
            source = StridedView.Contiguous(Allocate(weight.DType, weight.NumElements, zeroed: false), weight.Shape);
            Copy(weight, source);
        }
        return new StridedView(source.Storage, [groups, rows, cols], [rows * cols, cols, 1], source.Offset, false);
    }

    private static T[] ReadVector<T>(in StridedView v) where T : unmanaged
    {
        var data = Data<T>(v.Storage);
        var values = new T[v.Shape[0]];
        for (int i = 0; i < values.Length; i++) values[i] = data[v.Offset + i * v.Strides[0]];
        return values;
    }

    /// <summary>How many ranges <see cref="ForRanges"/> splits <paramref name="count"/> items of this cost into.</summary>
    private static int Parts(int count, long costPerItem) =>
        count * costPerItem < MinParallelWork ? 1 : Math.Min(CpuParallel.ThreadCount, count);

    /// <summary>
    /// Runs body(part, start, end) over [0, count) split into contiguous ranges (<paramref name="parts"/> of them, or
    /// one per thread when 0), in parallel when the work pays for it.
    /// </summary>
    private static void ForRanges(int count, long costPerItem, Action<int, int, int> body, int parts = 0)
    {
        if (parts == 0) parts = Parts(count, costPerItem);
        if (parts <= 1 || Parts(count, costPerItem) <= 1)
        {
            for (int part = 0; part < parts; part++) body(part, (int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));
            return;
        }
        // One index per range on the persistent workers: a GEMM called inside a range then runs on its thread
        // instead of competing for the cores, and an exception reaches the caller as the kernel threw it.
        var ranges = new Ranges(count, parts, body);
        CpuParallel.For(parts, ref ranges);
    }

    private readonly struct Ranges(int count, int parts, Action<int, int, int> body) : IParallelBody
    {
        public void Execute(int start, int end)
        {
            for (int part = start; part < end; part++)
                body(part, (int)((long)count * part / parts), (int)((long)count * (part + 1) / parts));
        }
    }
}
