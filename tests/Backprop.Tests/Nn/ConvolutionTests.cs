using static Backprop.Nn.Functional;

namespace Backprop.Tests.Nn;

public class ConvolutionTests
{
    private static readonly double[] Nine = [1, 2, 3, 4, 5, 6, 7, 8, 9];
    private static readonly double[] Kernel = [1, 2, 3, 4];

    [Fact]
    public void Conv2d_of_a_3x3_input_with_a_2x2_kernel_matches_the_hand_computation()
    {
        // y[i, j] = Σ x[i + a, j + b]·k[a, b]: 1·1 + 2·2 + 4·3 + 5·4 = 37, then 47, 67, 77; plus the bias.
        var x = Tensor.FromArray(Nine, 1, 1, 3, 3);
        var k = Tensor.FromArray(Kernel, 1, 1, 2, 2);
        var y = Conv2d(x, k, Tensor.FromArray(new double[] { 0.5 }));
        Assert.Equal([1, 1, 2, 2], y.Shape.ToArray());
        Assert.Equal([37.5, 47.5, 67.5, 77.5], y.ToArray<double>());
    }

    [Fact]
    public void Conv2d_with_stride_and_padding_matches_the_hand_computation()
    {
        // Windows start at (−1, −1), (−1, 1), (1, −1), (1, 1): 1·4 = 4; 2·3 + 3·4 = 18; 4·2 + 7·4 = 36; 5 + 12 + 24 + 36 = 77.
        var x = Tensor.FromArray(Nine, 1, 1, 3, 3);
        var k = Tensor.FromArray(Kernel, 1, 1, 2, 2);
        Assert.Equal([4.0, 18, 36, 77], Conv2d(x, k, stride: 2, padding: 1).ToArray<double>());
    }

    [Fact]
    public void ConvTranspose2d_of_a_2x2_input_scatters_the_kernel()
    {
        // Each input pixel adds its value times the kernel at its own offset; the overlaps add up.
        var x = Tensor.FromArray(new double[] { 1, 2, 3, 4 }, 1, 1, 2, 2);
        var k = Tensor.FromArray(Kernel, 1, 1, 2, 2);
        var y = ConvTranspose2d(x, k);
        double[] expected =
        [
            1, 2 + 2, 4,
            3 + 3, 4 + 6 + 6 + 4, 8 + 8,
            9, 12 + 12, 16,
        ];
        Assert.Equal([1, 1, 3, 3], y.Shape.ToArray());
        Assert.Equal(expected, y.ToArray<double>());
    }

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (int seed = 0; seed < 40; seed++) data.Add(seed);
        return data;
    }

    /// <summary>A random convolution configuration, its output size guaranteed positive.</summary>
    private sealed record Config(int N, int C, int H, int W, int O, int Kh, int Kw, int Sh, int Sw, int Ph, int Pw, int Dh, int Dw, int Groups, bool Bias)
    {
        public static Config Draw(int seed)
        {
            var r = new Random(seed);
            while (true)
            {
                int groups = r.Next(1, 4);
                var c = new Config(r.Next(1, 4), groups * r.Next(1, 3), r.Next(1, 9), r.Next(1, 9), groups * r.Next(1, 3),
                    r.Next(1, 4), r.Next(1, 4), r.Next(1, 4), r.Next(1, 4), r.Next(0, 3), r.Next(0, 3), r.Next(1, 3), r.Next(1, 3), groups, r.Next(2) == 0);
                if (c.OutH >= 1 && c.OutW >= 1) return c;
            }
        }

        public int OutH => (H + 2 * Ph - Dh * (Kh - 1) - 1) / Sh + 1 is var v && H + 2 * Ph - Dh * (Kh - 1) - 1 >= 0 ? v : 0;
        public int OutW => (W + 2 * Pw - Dw * (Kw - 1) - 1) / Sw + 1 is var v && W + 2 * Pw - Dw * (Kw - 1) - 1 >= 0 ? v : 0;
    }

    private static double[] RandomValues(Random r, int count)
    {
        var values = new double[count];
        for (int i = 0; i < values.Length; i++) values[i] = r.NextDouble() * 4 - 2;
        return values;
    }

    /// <summary>Direct loops over every output, tap and channel: y, and the gradients of Σ y·r.</summary>
    private static (double[] Y, double[] Dx, double[] Dw, double[] Db) NaiveConv2d(Config c, double[] x, double[] w, double[] b, double[] r)
    {
        int cg = c.C / c.Groups, og = c.O / c.Groups, oh = c.OutH, ow = c.OutW;
        var y = new double[c.N * c.O * oh * ow];
        var dx = new double[x.Length];
        var dw = new double[w.Length];
        var db = new double[c.O];
        for (int n = 0; n < c.N; n++)
        for (int o = 0; o < c.O; o++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int yi = ((n * c.O + o) * oh + i) * ow + j;
            double sum = c.Bias ? b[o] : 0;
            db[o] += r[yi];
            for (int cc = 0; cc < cg; cc++)
            for (int a = 0; a < c.Kh; a++)
            for (int e = 0; e < c.Kw; e++)
            {
                int h = i * c.Sh - c.Ph + a * c.Dh, v = j * c.Sw - c.Pw + e * c.Dw;
                if (h < 0 || h >= c.H || v < 0 || v >= c.W) continue;
                int channel = o / og * cg + cc;
                int xi = ((n * c.C + channel) * c.H + h) * c.W + v;
                int wi = ((o * cg + cc) * c.Kh + a) * c.Kw + e;
                sum += x[xi] * w[wi];
                dx[xi] += r[yi] * w[wi];
                dw[wi] += r[yi] * x[xi];
            }
            y[yi] = sum;
        }
        return (y, dx, dw, db);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Conv2d_and_its_gradients_match_direct_loops(int seed)
    {
        var c = Config.Draw(seed);
        var r = new Random(1000 + seed);
        var xv = RandomValues(r, c.N * c.C * c.H * c.W);
        var wv = RandomValues(r, c.O * (c.C / c.Groups) * c.Kh * c.Kw);
        var bv = RandomValues(r, c.O);
        var rv = RandomValues(r, c.N * c.O * c.OutH * c.OutW);
        var expected = NaiveConv2d(c, xv, wv, bv, rv);

        var x = Tensor.FromArray(xv, c.N, c.C, c.H, c.W).SetRequiresGrad();
        var w = Tensor.FromArray(wv, c.O, c.C / c.Groups, c.Kh, c.Kw).SetRequiresGrad();
        var b = c.Bias ? Tensor.FromArray(bv).SetRequiresGrad() : null;
        var y = Conv2d(x, w, b, stride: (c.Sh, c.Sw), padding: (c.Ph, c.Pw), dilation: (c.Dh, c.Dw), groups: c.Groups);
        AssertClose(expected.Y, y, 1e-12, c.ToString());
        (y * Tensor.FromArray(rv, y.Shape.ToArray())).Sum().Backward();
        AssertClose(expected.Dx, x.Grad!, 1e-12, c + " dx");
        AssertClose(expected.Dw, w.Grad!, 1e-12, c + " dw");
        if (b is not null) AssertClose(expected.Db, b.Grad!, 1e-12, c + " db");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Conv2d_large_enough_to_split_across_cores_matches_direct_loops(bool transposedLayouts)
    {
        // 8 samples of 16 × 36 × 256 multiply-adds: past the size where the kernels split the batch across threads.
        var c = new Config(8, 8, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 2, true);
        var r = new Random(5);
        var xv = RandomValues(r, c.N * c.C * c.H * c.W);
        var wv = RandomValues(r, c.O * (c.C / c.Groups) * c.Kh * c.Kw);
        var bv = RandomValues(r, c.O);
        var rv = RandomValues(r, c.N * c.O * c.OutH * c.OutW);
        var expected = NaiveConv2d(c, xv, wv, bv, rv);

        // Transposed layouts: the input and the incoming gradient are views whose H and W are swapped in memory.
        Tensor Layout(double[] values, int n, int ch, int h, int w) => transposedLayouts
            ? Tensor.FromArray(values, n, ch, h, w).Transpose(2, 3).Contiguous().Transpose(2, 3)
            : Tensor.FromArray(values, n, ch, h, w);
        var x = Layout(xv, c.N, c.C, c.H, c.W).Detach().SetRequiresGrad();
        var w = Tensor.FromArray(wv, c.O, c.C / c.Groups, c.Kh, c.Kw).SetRequiresGrad();
        var b = Tensor.FromArray(bv).SetRequiresGrad();
        var y = Conv2d(x, w, b, padding: 1, groups: c.Groups);
        AssertClose(expected.Y, y, 1e-12, "y");
        y.Backward(Layout(rv, c.N, c.O, c.OutH, c.OutW));
        AssertClose(expected.Dx, x.Grad!, 1e-12, "dx");
        AssertClose(expected.Dw, w.Grad!, 1e-12, "dw");
        AssertClose(expected.Db, b.Grad!, 1e-12, "db");
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Conv2d_in_float32_matches_direct_loops(int seed)
    {
        var c = Config.Draw(seed + 100);
        var r = new Random(seed);
        var xv = RandomValues(r, c.N * c.C * c.H * c.W);
        var wv = RandomValues(r, c.O * (c.C / c.Groups) * c.Kh * c.Kw);
        var bv = RandomValues(r, c.O);
        var expected = NaiveConv2d(c, xv, wv, bv, new double[c.N * c.O * c.OutH * c.OutW]);
        var x = Tensor.FromArray(xv, c.N, c.C, c.H, c.W).Float();
        var w = Tensor.FromArray(wv, c.O, c.C / c.Groups, c.Kh, c.Kw).Float();
        var y = Conv2d(x, w, c.Bias ? Tensor.FromArray(bv).Float() : null, (c.Sh, c.Sw), (c.Ph, c.Pw), (c.Dh, c.Dw), c.Groups);
        Assert.Equal(DType.Float32, y.DType);
        AssertClose(expected.Y, y, 1e-4, c.ToString());
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void ConvTranspose2d_is_the_adjoint_of_Conv2d(int seed)
    {
        // ⟨convᵀ(u), v⟩ = ⟨u, conv(v)⟩ for every u, v: checked against the direct-loop convolution.
        var c = Config.Draw(seed + 200);
        for (int retry = 1; (c.OutH - 1) * c.Sh - 2 * c.Ph + c.Dh * (c.Kh - 1) < 0 || (c.OutW - 1) * c.Sw - 2 * c.Pw + c.Dw * (c.Kw - 1) < 0; retry++)
            c = Config.Draw(seed + 200 + 1000 * retry); // padding so large that the transpose would be empty
        var r = new Random(seed);
        // The transpose of an OutH×OutW map is (OutH − 1)·s − 2p + d(k − 1) + 1 + outputPadding tall; with
        // outputPadding < stride, the conv of that size maps back to OutH×OutW.
        int extraH = r.Next(0, c.Sh), extraW = r.Next(0, c.Sw);
        var conv = c with
        {
            H = (c.OutH - 1) * c.Sh - 2 * c.Ph + c.Dh * (c.Kh - 1) + 1 + extraH,
            W = (c.OutW - 1) * c.Sw - 2 * c.Pw + c.Dw * (c.Kw - 1) + 1 + extraW,
        };
        Assert.Equal((c.OutH, c.OutW), (conv.OutH, conv.OutW));
        var uv = RandomValues(r, c.N * c.O * c.OutH * c.OutW);
        var wv = RandomValues(r, c.O * (c.C / c.Groups) * c.Kh * c.Kw);
        var bv = RandomValues(r, c.C);
        var vv = RandomValues(r, c.N * c.C * conv.H * conv.W);

        // The transpose's weight is the conv's: [conv out channels = transpose in channels, C/groups, kh, kw].
        var u = Tensor.FromArray(uv, c.N, c.O, c.OutH, c.OutW);
        var weight = Tensor.FromArray(wv, c.O, c.C / c.Groups, c.Kh, c.Kw);
        var bias = Tensor.FromArray(bv);
        var t = ConvTranspose2d(u, weight, c.Bias ? bias : null, (c.Sh, c.Sw), (c.Ph, c.Pw), (extraH, extraW), c.Groups, (c.Dh, c.Dw));
        Assert.Equal([c.N, c.C, conv.H, conv.W], t.Shape.ToArray());

        var (y, _, _, _) = NaiveConv2d(conv with { Bias = false }, vv, wv, bv, new double[c.N * c.O * c.OutH * c.OutW]);
        double lhs = 0, rhs = 0;
        var tv = t.ToArray<double>();
        for (int i = 0; i < tv.Length; i++) lhs += tv[i] * vv[i];
        for (int i = 0; i < uv.Length; i++) rhs += uv[i] * y[i];
        if (c.Bias)
            for (int i = 0; i < vv.Length; i++) rhs += bv[i / (conv.H * conv.W) % c.C] * vv[i];
        Assert.True(Math.Abs(lhs - rhs) < 1e-9 * (1 + Math.Abs(rhs)), $"{conv}: ⟨convᵀ(u), v⟩ = {lhs} but ⟨u, conv(v)⟩ = {rhs}");
    }

    [Fact]
    public void Conv1d_matches_direct_loops()
    {
        var r = new Random(7);
        var xv = RandomValues(r, 2 * 4 * 9);
        var wv = RandomValues(r, 6 * 2 * 3);
        var bv = RandomValues(r, 6);
        var y = Conv1d(Tensor.FromArray(xv, 2, 4, 9), Tensor.FromArray(wv, 6, 2, 3), Tensor.FromArray(bv), stride: 2, padding: 1, dilation: 2, groups: 2);
        int outL = (9 + 2 - 2 * 2 - 1) / 2 + 1;
        Assert.Equal([2, 6, outL], y.Shape.ToArray());
        var expected = new double[2 * 6 * outL];
        for (int n = 0; n < 2; n++)
        for (int o = 0; o < 6; o++)
        for (int i = 0; i < outL; i++)
        {
            double sum = bv[o];
            for (int cc = 0; cc < 2; cc++)
            for (int k = 0; k < 3; k++)
            {
                int at = i * 2 - 1 + k * 2;
                if (at >= 0 && at < 9) sum += xv[(n * 4 + o / 3 * 2 + cc) * 9 + at] * wv[(o * 2 + cc) * 3 + k];
            }
            expected[(n * 6 + o) * outL + i] = sum;
        }
        AssertClose(expected, y, 1e-12, "Conv1d");
    }

    /// <summary>Stride-1 convolutions with maps large enough for the direct kernels' 4 × 6 tiles, and their edge cases.</summary>
    private static readonly Config[] StrideOne =
    [
        new(3, 3, 10, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, true),
        new(2, 4, 9, 12, 6, 3, 2, 1, 1, 0, 1, 1, 1, 2, true), // groups of 3 output channels: one row at a time
        new(9, 2, 8, 8, 5, 3, 3, 1, 1, 2, 1, 2, 1, 1, false), // dilation, 5 outputs (overlapping tile), 9 samples (two chunks)
        new(1, 1, 12, 12, 4, 5, 5, 1, 1, 2, 2, 1, 1, 1, true),
        new(2, 6, 7, 20, 12, 1, 3, 1, 1, 0, 1, 1, 1, 3, true), // 1×3 kernel, groups
        new(17, 1, 28, 28, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, true), // the MNIST CNN's first layer
        new(2, 3, 8, 8, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, true), // padding beyond the kernel: the transpose crops
        new(2, 16, 7, 7, 8, 3, 3, 1, 1, 0, 0, 1, 1, 1, true), // no padding: the outputs shrink
    ];

    public static TheoryData<int> StrideOneCases()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < StrideOne.Length; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(StrideOneCases))]
    public void Stride_1_convolutions_and_gradients_match_direct_loops(int index)
    {
        var c = StrideOne[index];
        var r = new Random(300 + index);
        var xv = RandomValues(r, c.N * c.C * c.H * c.W);
        var wv = RandomValues(r, c.O * (c.C / c.Groups) * c.Kh * c.Kw);
        var bv = RandomValues(r, c.O);
        var rv = RandomValues(r, c.N * c.O * c.OutH * c.OutW);
        var expected = NaiveConv2d(c, xv, wv, bv, rv);

        foreach (bool transposedLayout in new[] { false, true })
        {
            var x = (transposedLayout ? Tensor.FromArray(xv, c.N, c.C, c.H, c.W).Transpose(2, 3).Contiguous().Transpose(2, 3)
                : Tensor.FromArray(xv, c.N, c.C, c.H, c.W)).Detach().SetRequiresGrad();
            var w = Tensor.FromArray(wv, c.O, c.C / c.Groups, c.Kh, c.Kw).SetRequiresGrad();
            var b = c.Bias ? Tensor.FromArray(bv).SetRequiresGrad() : null;
            var y = Conv2d(x, w, b, padding: (c.Ph, c.Pw), dilation: (c.Dh, c.Dw), groups: c.Groups);
            AssertClose(expected.Y, y, 1e-12, c.ToString());
            y.Backward(Tensor.FromArray(rv, y.Shape.ToArray()));
            AssertClose(expected.Dx, x.Grad!, 1e-12, c + " dx");
            AssertClose(expected.Dw, w.Grad!, 1e-12, c + " dw");
            if (b is not null) AssertClose(expected.Db, b.Grad!, 1e-12, c + " db");
        }

        var y32 = Conv2d(Tensor.FromArray(xv, c.N, c.C, c.H, c.W).Float(), Tensor.FromArray(wv, c.O, c.C / c.Groups, c.Kh, c.Kw).Float(),
            c.Bias ? Tensor.FromArray(bv).Float() : null, padding: (c.Ph, c.Pw), dilation: (c.Dh, c.Dw), groups: c.Groups);
        AssertClose(expected.Y, y32, 1e-4, c + " float32");
    }

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(2, 1, 1)]
    [InlineData(2, 2, 0)]
    public void Stride_1_ConvTranspose2d_matches_scattered_kernels(int dilation, int padding, int outputPadding)
    {
        // Each input pixel adds its value times the kernel at (h − p + i·d, w − p + j·d); outputPadding (< dilation) adds rows and columns.
        const int n = 2, c = 6, o = 4, h = 9, w = 10, k = 3, groups = 2;
        int cg = c / groups, og = o / groups;
        int outH = h - 1 - 2 * padding + dilation * (k - 1) + outputPadding + 1, outW = w - 1 - 2 * padding + dilation * (k - 1) + outputPadding + 1;
        var r = new Random(dilation * 10 + padding);
        var xv = RandomValues(r, n * c * h * w);
        var wv = RandomValues(r, c * og * k * k);
        var bv = RandomValues(r, o);
        var expected = new double[n * o * outH * outW];
        for (int s = 0; s < n; s++)
        for (int ci = 0; ci < c; ci++)
        for (int ol = 0; ol < og; ol++)
        for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
        for (int a = 0; a < h; a++)
        for (int e = 0; e < w; e++)
        {
            int oh = a - padding + i * dilation, ow = e - padding + j * dilation, oc = ci / cg * og + ol;
            if (oh < 0 || oh >= outH || ow < 0 || ow >= outW) continue;
            expected[((s * o + oc) * outH + oh) * outW + ow] += xv[((s * c + ci) * h + a) * w + e] * wv[((ci * og + ol) * k + i) * k + j];
        }
        for (int i = 0; i < expected.Length; i++) expected[i] += bv[i / (outH * outW) % o];

        var y = ConvTranspose2d(Tensor.FromArray(xv, n, c, h, w), Tensor.FromArray(wv, c, og, k, k), Tensor.FromArray(bv),
            padding: padding, outputPadding: outputPadding, groups: groups, dilation: dilation);
        Assert.Equal([n, o, outH, outW], y.Shape.ToArray());
        AssertClose(expected, y, 1e-12, $"dilation {dilation}, padding {padding}, outputPadding {outputPadding}");
    }

    [Fact]
    public void Non_contiguous_and_unbatched_inputs_give_the_same_result()
    {
        var x = Tensor.Randn(new Shape(2, 3, 5, 6), DType.Float64, new Generator(1));
        var w = Tensor.Randn(new Shape(4, 3, 3, 2), DType.Float64, new Generator(2));
        var expected = Conv2d(x, w, padding: 1, stride: (1, 2));
        var transposed = x.Transpose(2, 3).Contiguous().Transpose(2, 3);
        Assert.False(transposed.IsContiguous);
        Assert.True(expected.AllClose(Conv2d(transposed, w, padding: 1, stride: (1, 2)), 1e-12, 1e-12));
        Assert.True(expected[1].AllClose(Conv2d(x[1], w, padding: 1, stride: (1, 2)), 1e-12, 1e-12));
    }

    [Fact]
    public void Conv2d_casts_the_input_to_the_weight_dtype()
    {
        var x = Tensor.Ones(new Shape(1, 1, 2, 2), DType.Float32);
        var w = Tensor.Ones(new Shape(1, 1, 2, 2), DType.Float64);
        var y = Conv2d(x, w);
        Assert.Equal(DType.Float64, y.DType);
        Assert.Equal(4.0, y.Item());
    }

    [Fact]
    public void Bad_shapes_are_reported_with_the_op_and_the_shapes()
    {
        var x = Tensor.Zeros(1, 3, 5, 5);
        var e = Assert.Throws<ShapeMismatchException>(() => Conv2d(x, Tensor.Zeros(2, 2, 3, 3)));
        Assert.Contains("Conv2d", e.Message);
        Assert.Contains("[1, 3, 5, 5]", e.Message);
        Assert.Throws<ShapeMismatchException>(() => Conv2d(x, Tensor.Zeros(2, 3, 3, 3), Tensor.Zeros(3)));
        Assert.Throws<ShapeMismatchException>(() => Conv2d(x, Tensor.Zeros(2, 3, 7, 7)));
        Assert.Throws<ShapeMismatchException>(() => Conv2d(x, Tensor.Zeros(4, 1, 3, 3), groups: 2));
        Assert.Throws<ShapeMismatchException>(() => Conv2d(Tensor.Zeros(5, 5), Tensor.Zeros(2, 3, 3, 3)));
        Assert.Throws<ArgumentException>(() => Conv2d(x, Tensor.Zeros(2, 3, 3, 3), stride: 0));
        Assert.Throws<ShapeMismatchException>(() => ConvTranspose2d(x, Tensor.Zeros(2, 3, 3, 3)));
        var op = Assert.Throws<ArgumentException>(() => ConvTranspose2d(x, Tensor.Zeros(3, 2, 3, 3), stride: 2, outputPadding: 2));
        Assert.Contains("outputPadding", op.Message);
        Assert.Throws<ShapeMismatchException>(() => Conv1d(Tensor.Zeros(1, 3, 5), Tensor.Zeros(2, 3, 3, 3)));
    }

    [Fact]
    public void Gradients_flow_only_where_needed()
    {
        var x = Tensor.Randn(new Shape(2, 2, 4, 4), DType.Float64, new Generator(3));
        var w = Tensor.Randn(new Shape(3, 2, 3, 3), DType.Float64, new Generator(4)).SetRequiresGrad();
        Conv2d(x, w, padding: 1).Sum().Backward();
        Assert.NotNull(w.Grad);
        Assert.Null(x.Grad);
        // Σ over outputs of y = Σ_o w_o · (sum of every input a tap touches): each weight's gradient is a sum of inputs.
        var touched = Conv2d(x, Tensor.Ones(new Shape(1, 2, 3, 3), DType.Float64), padding: 1);
        Assert.True(Math.Abs(w.Grad!.Sum().Item() - 3 * touched.Sum().Item()) < 1e-9);
    }

    private static void AssertClose(double[] expected, Tensor actual, double tolerance, string what)
    {
        var values = actual.ToArray<double>();
        Assert.Equal(expected.Length, values.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - values[i]) <= tolerance * (1 + Math.Abs(expected[i])),
                $"{what}: element {i} is {values[i]}, expected {expected[i]}");
    }
}
