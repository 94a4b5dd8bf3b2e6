using Backprop.IO;

namespace Backprop.Tests.Tensors;

/// <summary>
/// Float16 and BFloat16 as storage dtypes: exact conversions (round to nearest even, once), printing, safetensors, and
/// kernels that compute in float32 and round the result once (docs/architecture.md, Note [Half precision]).
/// </summary>
public class HalfPrecisionTests
{
    public static TheoryData<double, ushort> BFloat16Roundings => new()
    {
        { 1.0, 0x3F80 },
        { 1 + 1.0 / 256, 0x3F80 },                  // halfway between 1 and 1 + 2⁻⁷: ties to even (down)
        { 1 + 3.0 / 256, 0x3F82 },                  // halfway between 1 + 2⁻⁷ and 1 + 2⁻⁶: ties to even (up)
        { 1 + 1.0 / 256 + Math.Pow(2, -40), 0x3F81 }, // just above halfway: a float32 detour would round to the tie, then down
        { -(1 + 1.0 / 256 + Math.Pow(2, -40)), 0xBF81 },
        { 3.0, 0x4040 },
        { double.PositiveInfinity, 0x7F80 },
        { double.NegativeInfinity, 0xFF80 },
        { 3.4e38, 0x7F80 },                         // beyond bfloat16's largest finite value (≈3.3895e38) after rounding
        { 1e-45, 0x0000 },                          // far below the smallest subnormal
        { -0.0, 0x8000 },
    };

    [Theory]
    [MemberData(nameof(BFloat16Roundings))]
    public void BFloat16_rounds_to_nearest_even_once(double value, ushort bits)
    {
        Assert.Equal(bits, BFloat16.FromDouble(value).Bits);
        var t = Tensor.FromArray(new[] { value }).To(DType.BFloat16);
        Assert.Equal(DType.BFloat16, t.DType);
        Assert.Equal(bits, t.Item<BFloat16>().Bits);
        Assert.Equal(BitConverter.UInt32BitsToSingle((uint)bits << 16), t.Item<float>());
    }

    [Fact]
    public void NaN_survives_both_narrow_dtypes()
    {
        Assert.True(float.IsNaN(BFloat16.FromSingle(float.NaN).ToSingle()));
        var t = Tensor.FromArray(new[] { double.NaN, 0.1 });
        Assert.True(double.IsNaN(t.To(DType.BFloat16).ToArray<double>()[0]));
        Assert.True(double.IsNaN(t.To(DType.Float16).ToArray<double>()[0]));
        Assert.Equal((double)(Half)0.1, t.To(DType.Float16).ToArray<double>()[1]);
        Assert.Equal(new[] { true, true }, t.To(DType.Float16).Bool().ToArray<bool>());
    }

    [Fact]
    public void Half_arrays_keep_their_dtype_and_convert_exactly()
    {
        var halves = Tensor.FromArray(new[] { (Half)1.5, (Half)(-65504), Half.Epsilon });
        Assert.Equal(DType.Float16, halves.DType);
        Assert.Equal(new[] { (Half)1.5, (Half)(-65504), Half.Epsilon }, halves.ToArray<Half>());
        Assert.Equal(2, halves.Storage.Bytes / 3);
        Assert.Equal(new[] { 1.5, -65504, (double)Half.Epsilon }, halves.ToArray<double>());
        Assert.Equal(new long[] { 1, -65504, 0 }, halves.Long().ToArray<long>());
        Assert.Equal(double.PositiveInfinity, Tensor.Scalar(70000).To(DType.Float16).Item()); // beyond 65504 + half an ulp
        var viaBf16 = halves.To(DType.BFloat16).ToArray<double>();
        Assert.Equal(new[] { 1.5, -65536, (double)BFloat16.FromDouble((double)Half.Epsilon) }, viaBf16);
    }

    public static TheoryData<string, Func<Tensor>> Printed => new()
    {
        { "tensor([ 1.5000, -2.0000], dtype=float16)", () => Tensor.FromArray(new[] { 1.5, -2 }).To(DType.Float16) },
        { "tensor([ 1.5000, -2.0000], dtype=bfloat16)", () => Tensor.FromArray(new[] { 1.5, -2 }).To(DType.BFloat16) },
        { "tensor(0.1000, dtype=float16)", () => Tensor.Scalar(0.1).To(DType.Float16) },
        { "tensor([], dtype=bfloat16)", () => Tensor.Zeros([0], DType.BFloat16) },
    };

    [Theory]
    [MemberData(nameof(Printed))]
    public void Printing_names_the_dtype(string expected, Func<Tensor> make) => Assert.Equal(expected, make().ToString());

    [Fact]
    public void Safetensors_write_and_read_f16_and_bf16_as_themselves()
    {
        var path = Path.Combine(Path.GetTempPath(), $"halves-{Guid.NewGuid():N}.safetensors");
        try
        {
            var h = Tensor.FromArray(new[] { 0.1, -3, 65504 }).To(DType.Float16);
            var bf = Tensor.FromArray(new[] { 1e30, -0.3, 2 }, 3, 1).To(DType.BFloat16).Transpose(0, 1);
            SafeTensors.Save(path, new Dictionary<string, Tensor> { ["h"] = h, ["bf"] = bf });
            var header = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(path));
            Assert.Contains("\"dtype\":\"F16\"", header);
            Assert.Contains("\"dtype\":\"BF16\"", header);

            var loaded = SafeTensors.Load(path).Tensors;
            Assert.Equal(DType.Float16, loaded["h"].DType);
            Assert.Equal(h.ToArray<Half>(), loaded["h"].ToArray<Half>());
            Assert.Equal(DType.BFloat16, loaded["bf"].DType);
            Assert.Equal(new Shape(1, 3), loaded["bf"].Shape);
            Assert.Equal(bf.ToArray<BFloat16>(), loaded["bf"].ToArray<BFloat16>());
        }
        finally
        {
            File.Delete(path);
        }
    }

    // Values whose float32 products and sums are exact (10-bit mantissas in [1, 2), three terms), so the float32
    // kernel's result is the exact one and the only rounding is the final one to the narrow dtype; a kernel that
    // rounded each product or partial sum to half precision would differ.
    private static double[] NarrowValues(int n, int mantissaBits, ulong seed)
    {
        var g = new Generator(seed);
        var values = new double[n];
        for (int i = 0; i < n; i++) values[i] = 1 + Math.Floor(g.NextDouble() * (1 << mantissaBits)) / (1 << mantissaBits);
        return values;
    }

    private static double Round(double v, DType dtype) => dtype == DType.Float16 ? (double)(Half)v : BFloat16.FromDouble(v);

    [Theory]
    [InlineData(DType.Float16, 10)]
    [InlineData(DType.BFloat16, 7)]
    public void Element_wise_ops_matmul_and_sums_compute_in_float32_and_round_once(DType dtype, int mantissaBits)
    {
        var a = NarrowValues(6, mantissaBits, 1);
        var b = NarrowValues(6, mantissaBits, 2);
        var ta = Tensor.FromArray(a, 2, 3).To(dtype);
        var tb = Tensor.FromArray(b, 3, 2).To(dtype);
        Assert.Equal(a, ta.ToArray<double>()); // the inputs are exact in the narrow dtype

        var product = ta.MatMul(tb);
        Assert.Equal(dtype, product.DType);
        var expected = new double[4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                expected[i * 2 + j] = Round(a[i * 3] * b[j] + a[i * 3 + 1] * b[2 + j] + a[i * 3 + 2] * b[4 + j], dtype);
        Assert.Equal(expected, product.ToArray<double>());

        var bt = tb.Transpose(0, 1); // non-contiguous [2, 3]
        Assert.Equal(a.Select((v, i) => Round(v * b[(i % 3) * 2 + i / 3], dtype)).ToArray(), (ta * bt).ToArray<double>());
        Assert.Equal(a.Select((v, i) => Round(v + b[(i % 3) * 2 + i / 3], dtype)).ToArray(), (ta + bt).ToArray<double>());
        Assert.Equal(a.Select(v => Round(Math.Sqrt(v), dtype)).ToArray(), ta.Sqrt().ToArray<double>());
        Assert.Equal(dtype, ta.Sum().DType);
        Assert.Equal(Round(a.Sum(), dtype), ta.Sum().Item());
        Assert.Equal(new[] { Round(a[0] + a[1] + a[2], dtype), Round(a[3] + a[4] + a[5], dtype) }, ta.Sum(1).ToArray<double>());
        Assert.Equal(a.Select((v, i) => v > b[(i % 3) * 2 + i / 3]).ToArray(), ta.Gt(bt).ToArray<bool>());
    }

    [Theory]
    [InlineData(DType.Float16)]
    [InlineData(DType.BFloat16)]
    public void Gradients_flow_in_the_narrow_dtype(DType dtype)
    {
        var x = Tensor.FromArray(new[] { 0.5, -1.5, 2 }).To(dtype);
        x.RequiresGrad = true;
        (x * x).Sum().Backward();
        Assert.NotNull(x.Grad);
        Assert.Equal(dtype, x.Grad!.DType);
        Assert.Equal(new[] { 1.0, -3, 4 }, x.Grad.ToArray<double>());
    }

    [Theory]
    [InlineData(DType.Float16)]
    [InlineData(DType.BFloat16)]
    public void A_linear_layer_trains_a_step_in_the_narrow_dtype(DType dtype)
    {
        var layer = Backprop.Nn.ModuleConversions.To(new Backprop.Nn.Linear(3, 2, generator: new Generator(3)), dtype);
        Assert.Equal(dtype, layer.Weight.DType);
        var x = Tensor.FromArray(new[] { 0.5, -1, 2, 1, 0.25, -0.5 }, 2, 3).To(dtype);
        var y = layer.Forward(x);
        Assert.Equal(dtype, y.DType);
        // The reference: the same layer in float32, each output rounded once to the narrow dtype.
        var expected = x.Float().MatMul(layer.Weight.Float().Transpose(0, 1)) + layer.Bias!.Float();
        Assert.Equal(expected.ToArray<double>().Select(v => Round(v, dtype)).ToArray(), y.ToArray<double>());
        y.Sum().Backward();
        Assert.Equal(dtype, layer.Weight.Grad!.DType);
        Assert.Equal(x.Float().Sum(0).ToArray<double>().Select(v => Round(v, dtype)), layer.Weight.Grad.ToArray<double>().Take(3));
    }
}
