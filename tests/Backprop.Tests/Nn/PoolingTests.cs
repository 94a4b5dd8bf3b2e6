using static Backprop.Nn.Functional;

namespace Backprop.Tests.Nn;

public class PoolingTests
{
    private static Tensor Grid(int h, int w, params double[] values) => Tensor.FromArray(values, 1, 1, h, w);

    [Fact]
    public void MaxPool2d_picks_each_window_maximum_and_its_position()
    {
        var x = Grid(4, 4,
            1, 3, 2, 0,
            5, 4, 1, 9,
            0, 2, 8, 7,
            6, 1, 3, 8);
        var (y, indices) = MaxPool2dWithIndices(x, 2);
        Assert.Equal([5.0, 9, 6, 8], y.ToArray<double>());
        // Flat positions h·W + w; the 8 at (2, 2) comes first among the tied 8s.
        Assert.Equal([4L, 7, 12, 10], indices.ToArray<long>());
    }

    [Fact]
    public void MaxPool2d_with_padding_and_overlapping_windows()
    {
        // 3×3 windows, stride 2, padding 1 on 1..9: windows at rows/cols −1..1 and 1..3.
        var x = Grid(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        var (y, indices) = MaxPool2dWithIndices(x, 3, stride: 2, padding: 1);
        Assert.Equal([5.0, 6, 8, 9], y.ToArray<double>());
        Assert.Equal([4L, 5, 7, 8], indices.ToArray<long>());
    }

    [Fact]
    public void MaxPool2d_gradient_goes_to_each_arg_max_once_per_window()
    {
        // Overlapping 2×2 windows, stride 1: the centre 9 is the maximum of all four windows.
        var x = Grid(3, 3, 1, 2, 3, 4, 9, 5, 6, 7, 8).SetRequiresGrad();
        var y = MaxPool2d(x, 2, stride: 1);
        Assert.Equal([9.0, 9, 9, 9], y.ToArray<double>());
        (y * Grid(2, 2, 1, 2, 3, 4)).Sum().Backward();
        Assert.Equal([0.0, 0, 0, 0, 10, 0, 0, 0, 0], x.Grad!.ToArray<double>());
    }

    [Fact]
    public void MaxPool2d_propagates_nan_and_never_picks_padding()
    {
        var x = Grid(2, 2, -5, double.NaN, -7, -6);
        Assert.True(double.IsNaN(MaxPool2d(x, 2).Item()));
        // All inputs negative: the −∞ padding must not win.
        var (y, indices) = MaxPool2dWithIndices(Grid(2, 2, -5, -3, -7, -6), 3, stride: 1, padding: 1);
        Assert.Equal([-3.0, -3, -3, -3], y.ToArray<double>());
        Assert.Equal([1L, 1, 1, 1], indices.ToArray<long>());
    }

    public static TheoryData<int> Seeds()
    {
        var data = new TheoryData<int>();
        for (int seed = 0; seed < 25; seed++) data.Add(seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void MaxPool2d_matches_direct_loops(int seed)
    {
        var r = new Random(seed);
        int kh = r.Next(1, 4), kw = r.Next(1, 4), sh = r.Next(1, 4), sw = r.Next(1, 4), dh = r.Next(1, 3), dw = r.Next(1, 3);
        int ph = r.Next(0, kh / 2 + 1), pw = r.Next(0, kw / 2 + 1);
        // Rows up to 40 wide, so whole vectors of outputs are pooled at once as well as the leftovers.
        int h = r.Next(dh * (kh - 1) + 1, 10), w = r.Next(dw * (kw - 1) + 1, 40);
        bool ceil = r.Next(2) == 0;
        var dtype = seed % 2 == 0 ? DType.Float64 : DType.Float32;
        var x = Tensor.Randn(new Shape(2, 3, h, w), dtype, new Generator((ulong)seed));
        var (y, indices) = MaxPool2dWithIndices(x, (kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil);
        int oh = y.Size(2), ow = y.Size(3);
        Assert.Equal(Window2d.OutputSize(h, kh, sh, ph, dh, ceil), oh);
        var xv = x.ToArray<double>();
        var yv = y.ToArray<double>();
        var iv = indices.ToArray<long>();
        for (int plane = 0; plane < 6; plane++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            double best = double.NegativeInfinity;
            long at = -1;
            for (int a = 0; a < kh; a++)
            for (int b = 0; b < kw; b++)
            {
                int row = i * sh - ph + a * dh, col = j * sw - pw + b * dw;
                if (row < 0 || row >= h || col < 0 || col >= w) continue;
                double v = xv[plane * h * w + row * w + col];
                if (v > best) (best, at) = (v, row * w + col);
            }
            int k = (plane * oh + i) * ow + j;
            Assert.Equal(best, yv[k]);
            Assert.Equal(at, iv[k]);
        }
    }

    [Fact]
    public void MaxPool2d_picks_nan_and_first_ties_across_a_wide_row()
    {
        var values = new float[2 * 24];
        for (int i = 0; i < values.Length; i++) values[i] = i % 5;
        values[7] = float.NaN;
        values[24 + 20] = float.NaN;
        var (y, indices) = MaxPool2dWithIndices(Tensor.FromArray(values, 1, 1, 2, 24), (2, 3), stride: (1, 3));
        var yv = y.ToArray<float>();
        var iv = indices.ToArray<long>();
        for (int ow = 0; ow < 8; ow++)
        {
            // Each window covers columns 3·ow … 3·ow + 2 of both rows; row 1 repeats row 0's values shifted by 24 % 5 = 4.
            int at = -1;
            float best = float.NegativeInfinity;
            for (int row = 0; row < 2; row++)
                for (int col = 3 * ow; col < 3 * ow + 3; col++)
                {
                    float v = values[row * 24 + col];
                    if (v > best || float.IsNaN(v) || at < 0) (best, at) = (v, row * 24 + col);
                }
            Assert.Equal(best, yv[ow]);
            Assert.Equal(at, iv[ow]);
        }
        Assert.True(float.IsNaN(yv[2]) && float.IsNaN(yv[6]));
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(9, 11)]
    [InlineData(28, 28)]
    [InlineData(14, 30)]
    public void MaxPool2d_2x2_in_float32_matches_direct_loops_with_ties_and_nan(int h, int w)
    {
        // ReLU-like data: many exact zeros (ties go to the first tap in window order), and a few NaNs.
        var r = new Random(h * 100 + w);
        var values = new float[3 * 2 * h * w];
        for (int i = 0; i < values.Length; i++) values[i] = r.Next(3) == 0 ? 0 : (float)r.NextDouble();
        for (int i = 0; i < 5; i++) values[r.Next(values.Length)] = float.NaN;
        var (y, indices) = MaxPool2dWithIndices(Tensor.FromArray(values, 3, 2, h, w), 2);
        int oh = h / 2, ow = w / 2;
        var yv = y.ToArray<float>();
        var iv = indices.ToArray<long>();
        for (int plane = 0; plane < 6; plane++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            float best = float.NaN;
            int at = -1;
            for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
            {
                float v = values[plane * h * w + (2 * i + a) * w + 2 * j + b];
                if (at < 0 || v > best || float.IsNaN(v)) (best, at) = (v, (2 * i + a) * w + 2 * j + b);
            }
            int k = (plane * oh + i) * ow + j;
            Assert.Equal(best, yv[k]);
            Assert.Equal(at, iv[k]);
        }
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(9, 11)]
    [InlineData(28, 28)]
    public void MaxPool2d_2x2_gradient_writes_each_arg_max_and_zeros_elsewhere(int h, int w)
    {
        // The disjoint-window kernel writes every input once; an odd last row or column belongs to no window and gets 0.
        var r = new Random(h * 31 + w);
        var values = new float[2 * 3 * h * w];
        for (int i = 0; i < values.Length; i++) values[i] = r.Next(3) == 0 ? 0 : (float)r.NextDouble();
        var x = Tensor.FromArray(values, 2, 3, h, w).SetRequiresGrad();
        var (y, indices) = MaxPool2dWithIndices(x, 2);
        var upstream = Tensor.Uniform(y.Shape, 1, 2, generator: new Generator((ulong)h));
        (y * upstream).Sum().Backward();

        var expected = new float[values.Length];
        var iv = indices.ToArray<long>();
        var uv = upstream.ToArray<float>();
        int plane = (h / 2) * (w / 2);
        for (int k = 0; k < iv.Length; k++) expected[k / plane * h * w + iv[k]] += uv[k];
        Assert.Equal(expected, x.Grad!.ToArray<float>());
    }

    [Fact]
    public void Unpooling_indices_outside_their_window_still_scatter_add()
    {
        // Indices that no 2×2 pooling produced (two picks of one position, one in another window) take the general path.
        var g = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 1, 1, 1, 10);
        var picks = Tensor.FromArray(new long[] { 0, 3, 4, 7, 9, 10, 12, 15, 0, 19 }, 1, 1, 1, 10);
        var grad = Backprop.Ops.MaxPool2dBackwardOp.Apply(g, picks, [1, 1, 2, 20]).ToArray<float>();
        var expected = new float[40];
        var gv = g.ToArray<float>();
        var pv = picks.ToArray<long>();
        for (int k = 0; k < 10; k++) expected[pv[k]] += gv[k];
        Assert.Equal(expected, grad);
    }

    [Fact]
    public void MaxPool2d_ceil_mode_keeps_the_partial_window()
    {
        var x = Grid(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        Assert.Equal([1, 1, 1, 1], MaxPool2d(x, 2).Shape.ToArray());
        Assert.Equal([5.0, 6, 8, 9], MaxPool2d(x, 2, ceilMode: true).ToArray<double>());
    }

    [Fact]
    public void AvgPool2d_averages_each_window()
    {
        var x = Grid(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        Assert.Equal([3.0, 4, 6, 7], AvgPool2d(x, 2, stride: 1).ToArray<double>());
    }

    [Fact]
    public void AvgPool2d_padding_counts_in_the_divisor_only_when_asked()
    {
        // 3×3 windows with padding 1 on 1..9: the corner window holds 1 + 2 + 4 + 5 = 12 over 4 input cells.
        var x = Grid(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        var included = AvgPool2d(x, 3, stride: 1, padding: 1).ToArray<double>();
        var excluded = AvgPool2d(x, 3, stride: 1, padding: 1, countIncludePad: false).ToArray<double>();
        Assert.Equal(12.0 / 9, included[0], 12);
        Assert.Equal(45.0 / 9, included[4], 12);
        Assert.Equal(3.0, excluded[0], 12);
        Assert.Equal((2 + 3 + 5 + 6 + 8 + 9) / 6.0, excluded[5], 12);
    }

    [Fact]
    public void AvgPool2d_ceil_mode_divides_a_partial_window_by_its_part_inside_the_input()
    {
        // 3×3 input, 2×2 windows, stride 2, ceil mode: windows at 0..1 and 2 (cut off by the input's end).
        var x = Grid(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        var y = AvgPool2d(x, 2, ceilMode: true);
        Assert.Equal([3.0, 4.5, 7.5, 9], y.ToArray<double>());
    }

    [Fact]
    public void AvgPool2d_gradient_spreads_each_output_over_its_window()
    {
        var x = Grid(3, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9).SetRequiresGrad();
        AvgPool2d(x, 2, stride: 1).Sum().Backward();
        // Each cell receives 1/4 from every window covering it: corners 1, edges 2, centre 4 windows.
        Assert.Equal([0.25, 0.5, 0.25, 0.5, 1, 0.5, 0.25, 0.5, 0.25], x.Grad!.ToArray<double>());
    }

    [Theory]
    [InlineData(5, 7, 3, 2)]
    [InlineData(3, 4, 5, 3)]
    [InlineData(6, 4, 3, 2)]
    [InlineData(7, 7, 1, 1)]
    public void AdaptiveAvgPool2d_averages_PyTorch_start_end_windows(int h, int w, int oh, int ow)
    {
        var x = Tensor.Randn(new Shape(2, 3, h, w), DType.Float64, new Generator(9));
        var y = AdaptiveAvgPool2d(x, (oh, ow));
        Assert.Equal([2, 3, oh, ow], y.Shape.ToArray());
        var xv = x.ToArray<double>();
        var yv = y.ToArray<double>();
        for (int plane = 0; plane < 6; plane++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            int h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh, w0 = j * w / ow, w1 = ((j + 1) * w + ow - 1) / ow;
            double sum = 0;
            for (int a = h0; a < h1; a++)
                for (int b = w0; b < w1; b++)
                    sum += xv[plane * h * w + a * w + b];
            Assert.Equal(sum / ((h1 - h0) * (w1 - w0)), yv[(plane * oh + i) * ow + j], 12);
        }
    }

    [Fact]
    public void Pooling_accepts_float32_and_unbatched_inputs()
    {
        var x = Tensor.Arange(16).Reshape(1, 4, 4);
        var y = MaxPool2d(x, 2);
        Assert.Equal(DType.Float32, y.DType);
        Assert.Equal([1, 2, 2], y.Shape.ToArray());
        Assert.Equal([5f, 7, 13, 15], y.ToArray<float>());
        Assert.Equal([2.5f, 4.5f, 10.5f, 12.5f], AvgPool2d(x, 2).ToArray<float>());
        Assert.Equal([7.5f], AdaptiveAvgPool2d(x, 1).ToArray<float>());
    }

    [Fact]
    public void Bad_pooling_arguments_are_reported()
    {
        var x = Tensor.Zeros(1, 1, 4, 4);
        Assert.Throws<ArgumentException>(() => MaxPool2d(x, 2, padding: 2));
        Assert.Throws<ShapeMismatchException>(() => MaxPool2d(x, 5));
        Assert.Throws<ShapeMismatchException>(() => AvgPool2d(Tensor.Zeros(4, 4), 2));
        Assert.Throws<ArgumentException>(() => AdaptiveAvgPool2d(x, 0));
    }
}
