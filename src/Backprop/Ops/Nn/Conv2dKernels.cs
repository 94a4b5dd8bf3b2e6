namespace Backprop.Ops;

/// <summary>
/// The three convolution products, computed with the backend's im2col/col2im and matrix product and no graph:
/// the convolution itself, its transpose (which is also its input gradient) and the correlation of an input with an
/// output gradient (its weight gradient). Inputs arrive detached, with one dtype and valid shapes.
/// </summary>
/// <remarks>
/// The heavy work is one batched GEMM per call, shaped so no output needs a permuting copy: the forward and the
/// transpose multiply each sample's columns by the (broadcast) weight; the weight gradient lays its columns out
/// channel-major so the sum over the batch is the inner dimension of a single GEMM.
/// </remarks>
internal static class Conv2dKernels
{
    /// <summary>y[N, O, outH, outW] = conv(x[N, C, H, W], w[O, C/groups, kh, kw]) + b.</summary>
    public static Tensor Convolve(Tensor x, Tensor w, Tensor? b, Window2d window, int groups, int outH, int outW)
    {
        int n = x.Sizes[0], o = w.Sizes[0];
        int og = o / groups, k = w.Sizes[1] * w.Sizes[2] * w.Sizes[3], l = outH * outW;
        var backend = x.Backend;
        var y = Tensor.Empty([n, o, outH, outW], x.DType, backend);
        if (b is not null) backend.Copy(BroadcastChannels(b, y.Sizes), y.Strided);
        var columns = ColumnsPerSample(x, window, groups, outH, outW);
        var wc = w.Contiguous();
        var weights = new StridedView(wc.Storage, [n, groups, og, k], [0, og * k, k, 1], wc.Offset, false);
        var output = new StridedView(y.Storage, [n, groups, og, l], [o * l, og * l, l, 1], 0, false);
        backend.MatMul(weights, columns, output, accumulate: b is not null);
        return y;
    }

    /// <summary>
    /// y[N, G·Og, outH, outW] = the transpose (adjoint) of conv with weight w[C, Og, kh, kw] applied to x[N, C, H, W]:
    /// each input pixel scatters its weighted kernel into the output. The conv it inverts maps outH×outW to H×W.
    /// </summary>
    public static Tensor ConvolveTransposed(Tensor x, Tensor w, Tensor? b, Window2d window, int groups, int outH, int outW)
    {
        int n = x.Sizes[0], c = x.Sizes[1], cg = c / groups, og = w.Sizes[1], o = og * groups;
        int kh = window.Kernel.Height, kw = window.Kernel.Width, k = og * kh * kw;
        int h = x.Sizes[2], wd = x.Sizes[3], l = h * wd;
        var backend = x.Backend;
        var xc = x.Contiguous();
        var wc = w.Contiguous();
        var columns = Tensor.Empty([n, o, kh, kw, h, wd], x.DType, backend);
        // Per group, columns = Wᵀ·x: W is [cg, k] in memory, read transposed in place and broadcast over the batch.
        var weightsT = new StridedView(wc.Storage, [n, groups, k, cg], [0, cg * k, 1, k], wc.Offset, false);
        var input = new StridedView(xc.Storage, [n, groups, cg, l], [c * l, cg * l, l, 1], xc.Offset, false);
        var product = new StridedView(columns.Storage, [n, groups, k, l], [groups * k * l, k * l, l, 1], 0, false);
        backend.MatMul(weightsT, input, product, accumulate: false);
        var y = Tensor.Empty([n, o, outH, outW], x.DType, backend);
        backend.Col2Im(columns.Strided, y.Strided, window);
        if (b is not null) backend.Binary(BinaryOp.Add, y.Strided, BroadcastChannels(b, y.Sizes), y.Strided);
        return y;
    }

    /// <summary>
    /// ∂L/∂w[O, C/groups, kh, kw] of y = conv(x, w) given g = ∂L/∂y: for each group, g as [Og, N·L] times the
    /// columns of x as [N·L, K], one GEMM whose inner dimension runs over the whole batch.
    /// </summary>
    public static Tensor WeightGradient(Tensor x, Tensor g, Window2d window, int groups)
    {
        int n = x.Sizes[0], c = x.Sizes[1], cg = c / groups, o = g.Sizes[1], og = o / groups;
        int kh = window.Kernel.Height, kw = window.Kernel.Width, k = cg * kh * kw;
        int outH = g.Sizes[2], outW = g.Sizes[3], l = outH * outW, nl = n * l;
        var backend = x.Backend;
        // Columns in memory order [C, kh, kw, N, OH, OW], written through a view in the kernel's [N, C, kh, kw, OH, OW] order.
        var columns = backend.Allocate(x.DType, c * kh * kw * nl, zeroed: false);
        var columnsView = new StridedView(columns, [n, c, kh, kw, outH, outW], [l, kh * kw * nl, kw * nl, nl, outW, 1], 0, false);
        backend.Im2Col(x.Strided, columnsView, window);
        // g as [O, N, OH, OW] in memory, so that each channel's gradients over the batch form one row.
        var gt = Tensor.Empty([o, n, outH, outW], g.DType, backend);
        var gs = g.StrideArray;
        backend.Copy(new StridedView(g.Storage, [o, n, outH, outW], [gs[1], gs[0], gs[2], gs[3]], g.Offset, false), gt.Strided);
        var dw = Tensor.Empty([o, cg, kh, kw], x.DType, backend);
        var gradients = new StridedView(gt.Storage, [groups, og, nl], [og * nl, nl, 1], 0, false);
        var columnsT = new StridedView(columns, [groups, nl, k], [k * nl, 1, nl], 0, false);
        var result = new StridedView(dw.Storage, [groups, og, k], [og * k, k, 1], 0, false);
        backend.MatMul(gradients, columnsT, result, accumulate: false);
        return dw;
    }

    /// <summary>
    /// The columns of x for the forward product, as [N, G, C/G·kh·kw, OH·OW]: a fresh im2col buffer, or x itself
    /// for a 1×1 kernel with unit stride and no padding over a row-contiguous plane (then nothing is copied).
    /// </summary>
    private static StridedView ColumnsPerSample(Tensor x, Window2d window, int groups, int outH, int outW)
    {
        int n = x.Sizes[0], c = x.Sizes[1], cg = c / groups, h = x.Sizes[2], wd = x.Sizes[3], l = outH * outW;
        int kh = window.Kernel.Height, kw = window.Kernel.Width, k = cg * kh * kw;
        var xs = x.StrideArray;
        bool pointwise = kh == 1 && kw == 1 && window.Stride == new Size2d(1, 1) && window.Padding == new Size2d(0, 0)
            && outH == h && outW == wd && xs[3] == 1 && (h == 1 || xs[2] == wd);
        if (pointwise)
            return new StridedView(x.Storage, [n, groups, k, l], [xs[0], cg * xs[1], xs[1], 1], x.Offset, false);
        var columns = x.Backend.Allocate(x.DType, n * c * kh * kw * l, zeroed: false);
        x.Backend.Im2Col(x.Strided, StridedView.Contiguous(columns, [n, c, kh, kw, outH, outW]), window);
        return new StridedView(columns, [n, groups, k, l], [groups * k * l, k * l, l, 1], 0, false);
    }

    /// <summary>A per-channel vector [C] seen as a tensor of <paramref name="sizes"/> [N, C, …] with stride 0 elsewhere.</summary>
    private static StridedView BroadcastChannels(Tensor b, int[] sizes)
    {
        var strides = new int[sizes.Length];
        strides[1] = b.StrideArray[0];
        return new StridedView(b.Storage, sizes, strides, b.Offset, false);
    }
}
