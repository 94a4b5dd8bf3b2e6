using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>
/// Reductions, arg-max/min, softmax and the indexing kernels against naive loops over every dim of odd-sized 3-D
/// tensors, contiguous and transposed (so both the vectorised row path and the strided path run).
/// </summary>
public class ReductionKernelTests
{
    private static readonly CpuBackend Cpu = CpuBackend.Instance;
    private static readonly int[] Dims = [3, 5, 7];

    private static (Tensor Tensor, Func<int, int, int, double> At) Input(bool transposed, DType dtype, ulong seed)
    {
        var g = new Generator(seed);
        var values = new double[3 * 5 * 7];
        for (int i = 0; i < values.Length; i++) values[i] = Math.Round(-2 + 4 * g.NextDouble(), 3);
        if (!transposed)
            return (Tensor.FromArray(values, 3, 5, 7).To(dtype), (i, j, k) => values[(i * 5 + j) * 7 + k]);
        // Stored as [7, 5, 3] and permuted back: the same logical tensor, no dim contiguous.
        var stored = new double[values.Length];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++)
                for (int k = 0; k < 7; k++)
                    stored[(k * 5 + j) * 3 + i] = values[(i * 5 + j) * 7 + k];
        return (Tensor.FromArray(stored, 7, 5, 3).To(dtype).Permute(2, 1, 0), (i, j, k) => values[(i * 5 + j) * 7 + k]);
    }

    public static TheoryData<ReduceOp, bool> Cases()
    {
        var data = new TheoryData<ReduceOp, bool>();
        foreach (var op in Enum.GetValues<ReduceOp>())
            foreach (var transposed in new[] { false, true }) data.Add(op, transposed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reduce_over_every_set_of_dims_matches_a_naive_loop(ReduceOp op, bool transposed)
    {
        foreach (var dtype in new[] { DType.Float32, DType.Float64, DType.Int64 })
        {
            var (x, at) = Input(transposed, dtype, 7);
            for (int mask = 1; mask < 8; mask++)
            {
                bool[] reduced = [(mask & 1) != 0, (mask & 2) != 0, (mask & 4) != 0];
                int[] kept = [reduced[0] ? 1 : 3, reduced[1] ? 1 : 5, reduced[2] ? 1 : 7];
                var y = Tensor.Zeros(kept, dtype);
                Cpu.Reduce(op, x.Strided, y.Strided);
                var actual = y.ToArray<double>();
                int index = 0;
                for (int a = 0; a < kept[0]; a++)
                    for (int b = 0; b < kept[1]; b++)
                        for (int c = 0; c < kept[2]; c++)
                        {
                            double acc = op switch { ReduceOp.Sum => 0, ReduceOp.Prod => 1, ReduceOp.Max => double.NegativeInfinity, _ => double.PositiveInfinity };
                            for (int i = 0; i < 3; i++)
                                for (int j = 0; j < 5; j++)
                                    for (int k = 0; k < 7; k++)
                                    {
                                        if ((!reduced[0] && i != a) || (!reduced[1] && j != b) || (!reduced[2] && k != c)) continue;
                                        double v = dtype == DType.Int64 ? (long)at(i, j, k) : dtype == DType.Float32 ? (float)at(i, j, k) : at(i, j, k);
                                        acc = op switch { ReduceOp.Sum => acc + v, ReduceOp.Prod => acc * v, ReduceOp.Max => Math.Max(acc, v), _ => Math.Min(acc, v) };
                                    }
                            double got = actual[index++];
                            double tolerance = dtype == DType.Float32 ? 1e-4 * (1 + Math.Abs(acc)) : 1e-9 * (1 + Math.Abs(acc));
                            Assert.True(Math.Abs(acc - got) <= tolerance, $"{op} {dtype} mask {mask} transposed {transposed} at ({a},{b},{c}): expected {acc}, got {got}");
                        }
            }
        }
    }

    [Fact]
    public void Max_and_min_reductions_propagate_nan()
    {
        var x = Tensor.FromArray(new[] { 1.0, double.NaN, 3.0, -1.0, 2.0, 0.0 }, 2, 3);
        foreach (var op in new[] { ReduceOp.Max, ReduceOp.Min, ReduceOp.Sum })
        {
            var y = Tensor.Zeros([2, 1], DType.Float64);
            Cpu.Reduce(op, x.Strided, y.Strided);
            var r = y.ToArray<double>();
            Assert.True(double.IsNaN(r[0]), $"{op} hid a NaN");
            Assert.False(double.IsNaN(r[1]));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ArgReduce_finds_the_first_extreme_along_each_dim(bool transposed)
    {
        var (x, at) = Input(transposed, DType.Float64, 11);
        for (int dim = 0; dim < 3; dim++)
            foreach (var max in new[] { true, false })
            {
                int[] kept = [dim == 0 ? 1 : 3, dim == 1 ? 1 : 5, dim == 2 ? 1 : 7];
                var indices = Tensor.Zeros(kept, DType.Int64);
                Cpu.ArgReduce(max, x.Strided, dim, indices.Strided);
                var actual = indices.ToArray<long>();
                int n = 0;
                for (int a = 0; a < kept[0]; a++)
                    for (int b = 0; b < kept[1]; b++)
                        for (int c = 0; c < kept[2]; c++)
                        {
                            long best = 0;
                            double bestValue = double.NaN;
                            for (int t = 0; t < Dims[dim]; t++)
                            {
                                double v = dim == 0 ? at(t, b, c) : dim == 1 ? at(a, t, c) : at(a, b, t);
                                if (t == 0 || (max ? v > bestValue : v < bestValue)) { best = t; bestValue = v; }
                            }
                            Assert.Equal(best, actual[n++]);
                        }
            }
        var withNan = Tensor.FromArray(new[] { 1.0, double.NaN, 5.0, 5.0, 2.0 });
        var idx = Tensor.Zeros([1], DType.Int64);
        Cpu.ArgReduce(true, withNan.Strided, 0, idx.Strided);
        Assert.Equal(1L, idx.Item<long>()); // NaN counts as the maximum
        var ties = Tensor.FromArray(new[] { 1.0, 5.0, 5.0, 2.0 }).Slice(0, 0, 4, 1);
        Cpu.ArgReduce(true, ties.Strided, 0, idx.Strided);
        Assert.Equal(1L, idx.Item<long>()); // the first of tied maxima
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Softmax_along_each_dim_matches_the_definition(bool transposed, bool log)
    {
        var (x, at) = Input(transposed, DType.Float64, 13);
        for (int dim = 0; dim < 3; dim++)
        {
            var y = Tensor.Zeros([3, 5, 7], DType.Float64);
            Cpu.Softmax(x.Strided, dim, y.Strided, log);
            var actual = y.ToArray<double>();
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 5; j++)
                    for (int k = 0; k < 7; k++)
                    {
                        double sum = 0;
                        for (int t = 0; t < Dims[dim]; t++)
                            sum += Math.Exp(dim == 0 ? at(t, j, k) : dim == 1 ? at(i, t, k) : at(i, j, t));
                        double expected = log ? at(i, j, k) - Math.Log(sum) : Math.Exp(at(i, j, k)) / sum;
                        Assert.Equal(expected, actual[(i * 5 + j) * 7 + k], 12);
                    }
        }
    }

    [Fact]
    public void Gather_scatter_and_index_kernels_match_naive_loops()
    {
        var (x, at) = Input(transposed: true, DType.Float64, 17);
        var g = new Generator(3);
        // Gather along dim 1 with an index of shape [3, 4, 7]: y[i,j,k] = x[i, index[i,j,k], k].
        var index = new long[3 * 4 * 7];
        for (int i = 0; i < index.Length; i++) index[i] = g.NextInt64(5);
        var indexTensor = Tensor.FromArray(index, 3, 4, 7);
        var gathered = Tensor.Zeros([3, 4, 7], DType.Float64);
        Cpu.Gather(x.Strided, 1, indexTensor.Strided, gathered.Strided);
        var gv = gathered.ToArray<double>();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 7; k++)
                    Assert.Equal(at(i, (int)index[(i * 4 + j) * 7 + k], k), gv[(i * 4 + j) * 7 + k]);

        // ScatterAdd is Gather's adjoint: ⟨gather(x), s⟩ = ⟨x, scatter_add(s)⟩.
        var s = Tensor.Randn([3, 4, 7], DType.Float64, new Generator(4));
        var scattered = Tensor.Zeros([3, 5, 7], DType.Float64);
        Cpu.ScatterAdd(scattered.Strided, 1, indexTensor.Strided, s.Strided);
        double lhs = (gathered * s).Sum().Item(), rhs = (x * scattered).Sum().Item();
        Assert.Equal(lhs, rhs, 10);

        // IndexSelect along dim 2 with repeats, and IndexAdd as its adjoint.
        var picks = Tensor.FromArray(new long[] { 6, 0, 6, 3 });
        var selected = Tensor.Zeros([3, 5, 4], DType.Float64);
        Cpu.IndexSelect(x.Strided, 2, picks.Strided, selected.Strided);
        var sv = selected.ToArray<double>();
        long[] p = [6, 0, 6, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 5; j++)
                for (int t = 0; t < 4; t++)
                    Assert.Equal(at(i, j, (int)p[t]), sv[(i * 5 + j) * 4 + t]);
        var u = Tensor.Randn([3, 5, 4], DType.Float64, new Generator(5));
        var added = Tensor.Zeros([3, 5, 7], DType.Float64);
        Cpu.IndexAdd(added.Strided, 2, picks.Strided, u.Strided);
        Assert.Equal((selected * u).Sum().Item(), (x * added).Sum().Item(), 10);

        var bad = Tensor.FromArray(new long[] { 7 });
        var error = Assert.Throws<IndexOutOfRangeException>(() => Cpu.IndexSelect(x.Strided, 2, bad.Strided, Tensor.Zeros([3, 5, 1], DType.Float64).Strided));
        Assert.Contains("out of range", error.Message);
    }
}
