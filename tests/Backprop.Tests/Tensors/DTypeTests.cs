using Backprop.IO;

namespace Backprop.Tests.Tensors;

/// <summary>Bool and Int32 storage, conversions, printing and safetensors, and PyTorch's type promotion.</summary>
public class DTypeTests
{
    [Fact]
    public void Bool_and_int32_arrays_keep_their_dtype_and_values()
    {
        var mask = Tensor.FromArray(new[] { true, false, true }, 3);
        Assert.Equal(DType.Bool, mask.DType);
        Assert.Equal(new[] { true, false, true }, mask.ToArray<bool>());
        Assert.Equal(new[] { 1.0, 0.0, 1.0 }, mask.ToArray<double>());
        Assert.True(mask[2].Item<bool>());
        Assert.Equal(1, mask.Storage.Bytes / 3);

        var ints = Tensor.FromArray(new[] { -3, 0, int.MaxValue }, [3], DType.Int32);
        Assert.Equal(DType.Int32, ints.DType);
        Assert.Equal(new[] { -3, 0, int.MaxValue }, ints.ToArray<int>());
        Assert.Equal(int.MaxValue, ints[2].Item<int>());

        var grid = Tensor.FromArray(new bool[,] { { true, false }, { false, false } });
        Assert.Equal(DType.Bool, grid.DType);
        Assert.Equal(new Shape(2, 2), grid.Shape);
        Assert.Equal(new[] { true, false, false, false }, grid.ToArray<bool>());

        // int[] without a dtype stays PyTorch's integer default, Int64, as before.
        Assert.Equal(DType.Int64, Tensor.FromArray(new[] { 1, 2 }).DType);
    }

    public static TheoryData<double, bool, int, long> Conversions => new()
    {
        // value, as bool (nonzero is true, NaN included), as int32 (truncated toward zero), as int64
        { 0.0, false, 0, 0 },
        { -0.0, false, 0, 0 },
        { 2.75, true, 2, 2 },
        { -2.75, true, -2, -2 },
        { 0.25, true, 0, 0 },
        { double.NaN, true, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(Conversions))]
    public void Conversions_follow_pytorch(double value, bool asBool, int asInt32, long asInt64)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
        {
            var x = Tensor.Scalar(value, dtype);
            Assert.Equal(asBool, x.Bool().Item<bool>());
            Assert.Equal(asInt32, x.Int().Item<int>());
            Assert.Equal(asInt64, x.Long().Item<long>());
        }
        Assert.Equal(asBool ? 1f : 0f, Tensor.Scalar(value).Bool().Float().Item<float>());
        Assert.Equal((double)asInt32, Tensor.Scalar(value).Int().Double().Item());
    }

    [Fact]
    public void Conversions_between_integer_and_bool_dtypes_round_trip_through_strided_views()
    {
        var ints = Tensor.FromArray(new long[] { 0, 5, -1, 0, 7, 0 }, 2, 3);
        var transposed = ints.Transpose(0, 1); // non-contiguous
        var mask = transposed.To(DType.Bool);
        Assert.Equal(new[] { false, false, true, true, true, false }, mask.ToArray<bool>());
        Assert.Equal(new[] { 0, 0, 5, 7, -1, 0 }, transposed.Int().ToArray<int>());
        Assert.Equal(new long[] { 0, 0, 1, 1, 1, 0 }, mask.Long().ToArray<long>());
        Assert.Equal(new[] { false, true, true }, mask.Transpose(0, 1)[0].Int().Bool().ToArray<bool>());
        Assert.Equal(new[] { true, true, true, true }, Tensor.Ones([2, 2], DType.Bool).ToArray<bool>());
        Assert.Equal(new[] { false, false }, Tensor.Zeros([2], DType.Bool).ToArray<bool>());
        Assert.Equal(new[] { 7, 7, 7 }, Tensor.Full([3], 7.9, DType.Int32).ToArray<int>());
    }

    [Fact]
    public void Integer_neg_abs_and_sign_keep_the_dtype_and_wrap_at_the_minimum()
    {
        int[] values = [-7, 0, 5, int.MinValue, int.MaxValue];
        var ints = Tensor.FromArray(values, [5], DType.Int32);
        Assert.Equal(DType.Int32, ints.Neg().DType);
        Assert.Equal(values.Select(v => unchecked(-v)).ToArray(), ints.Neg().ToArray<int>());
        Assert.Equal(values.Select(v => v < 0 ? unchecked(-v) : v).ToArray(), ints.Abs().ToArray<int>());
        Assert.Equal(values.Select(Math.Sign).ToArray(), ints.Sign().ToArray<int>());
        var longs = Tensor.FromArray(new[] { long.MinValue, -3, 4 });
        Assert.Equal(new[] { long.MinValue, 3, 4 }, longs.Abs().ToArray<long>());
    }

    public static TheoryData<string, Func<Tensor>> Printed => new()
    {
        { "tensor([ True, False,  True])", () => Tensor.FromArray(new[] { true, false, true }) },
        { "tensor([[ True],\n        [False]])", () => Tensor.FromArray(new bool[,] { { true }, { false } }) },
        { "tensor(True)", () => Tensor.Scalar(1, DType.Bool) },
        { "tensor([], dtype=bool)", () => Tensor.Zeros([0], DType.Bool) },
        { "tensor([ 1, -2, 30], dtype=int32)", () => Tensor.FromArray(new[] { 1, -2, 30 }, [3], DType.Int32) },
        { "tensor([], dtype=int32)", () => Tensor.Zeros([0], DType.Int32) },
        { "tensor([ 1, -2, 30])", () => Tensor.FromArray(new long[] { 1, -2, 30 }) },
        { "tensor([1.5000, 2.0000])", () => Tensor.FromArray(new[] { 1.5f, 2f }) },
    };

    [Theory]
    [MemberData(nameof(Printed))]
    public void Printing_matches_pytorch(string expected, Func<Tensor> make) => Assert.Equal(expected, make().ToString());

    [Fact]
    public void Safetensors_write_and_read_bool_and_int32_as_themselves()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dtypes-{Guid.NewGuid():N}.safetensors");
        try
        {
            var mask = Tensor.FromArray(new bool[,] { { true, false, false }, { false, true, true } });
            var counts = Tensor.FromArray(new[] { int.MinValue, -1, 0, int.MaxValue }, [2, 2], DType.Int32);
            SafeTensors.Save(path, new Dictionary<string, Tensor> { ["mask"] = mask.Transpose(0, 1), ["counts"] = counts });
            var header = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(path));
            Assert.Contains("\"dtype\":\"BOOL\"", header);
            Assert.Contains("\"dtype\":\"I32\"", header);

            var loaded = SafeTensors.Load(path).Tensors;
            Assert.Equal(DType.Bool, loaded["mask"].DType);
            Assert.Equal(new Shape(3, 2), loaded["mask"].Shape);
            Assert.Equal(new[] { true, false, false, true, false, true }, loaded["mask"].ToArray<bool>());
            Assert.Equal(DType.Int32, loaded["counts"].DType);
            Assert.Equal(new[] { int.MinValue, -1, 0, int.MaxValue }, loaded["counts"].ToArray<int>());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
