namespace Backprop.Tests.Tensors;

public class TensorTests
{
    [Fact]
    public void Factories_make_the_requested_shapes_dtypes_and_values()
    {
        Assert.Equal([0f, 0f, 0f, 0f, 0f, 0f], Tensor.Zeros(2, 3).ToArray<float>());
        Assert.Equal(DType.Float64, Tensor.Ones([2], DType.Float64).DType);
        Assert.Equal([7.0, 7.0], Tensor.Full([2], 7).ToArray<double>());
        Assert.Equal([0.0, 1.0, 2.0, 3.0], Tensor.Arange(4).ToArray<double>());
        Assert.Equal([1.0, 1.5, 2.0, 2.5], Tensor.Arange(1, 3, 0.5).ToArray<double>());
        Assert.Equal([0.0, 0.25, 0.5, 0.75, 1.0], Tensor.Linspace(0, 1, 5).ToArray<double>());
        Assert.Equal([1.0, 0, 0, 1.0], Tensor.Eye(2).ToArray<double>());
        Assert.Equal(new Shape(), Tensor.Scalar(3).Shape);
        Assert.Equal(3.0, Tensor.Scalar(3).Item());
        var m = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new Shape(2, 3), m.Shape);
        Assert.Equal(DType.Int64, Tensor.FromArray(new[] { 1, 2 }).DType);
    }

    [Fact]
    public void Random_factories_are_repeatable_for_a_seed_and_have_the_right_moments()
    {
        var a = Tensor.Randn([1000], DType.Float64, new Generator(5));
        var b = Tensor.Randn([1000], DType.Float64, new Generator(5));
        Assert.Equal(a.ToArray<double>(), b.ToArray<double>());
        Assert.InRange(a.Mean().Item(), -0.1, 0.1);
        Assert.InRange(a.Std().Item(), 0.9, 1.1);
        var u = Tensor.Rand([1000], DType.Float64, new Generator(1)).ToArray<double>();
        Assert.All(u, v => Assert.InRange(v, 0.0, 1.0));
        var ints = Tensor.RandInt(3, 7, [500], new Generator(2)).ToArray<long>();
        Assert.All(ints, v => Assert.InRange(v, 3L, 6L));
        Assert.Equal(4, ints.Distinct().Count());
    }

    [Fact]
    public void Generator_state_round_trips()
    {
        var g = new Generator(42);
        g.NextNormal();
        var state = g.GetState();
        var expected = Enumerable.Range(0, 5).Select(_ => g.NextNormal()).ToArray();
        var h = new Generator(0);
        h.SetState(state);
        Assert.Equal(expected, Enumerable.Range(0, 5).Select(_ => h.NextNormal()).ToArray());
    }

    [Fact]
    public void Views_share_storage_and_see_writes()
    {
        var x = Tensor.Arange(6, DType.Float64).Reshape(2, 3);
        var t = x.T;
        Assert.False(t.IsContiguous);
        Assert.Equal([0.0, 3, 1, 4, 2, 5], t.ToArray<double>());
        var row = x[1];
        row.FillInPlace(9);
        Assert.Equal([0.0, 1, 2, 9, 9, 9], x.ToArray<double>());
        Assert.Equal(x.Version, row.Version);
        Assert.Equal([1.0, 9], x[.., 1].ToArray<double>());
        Assert.Equal([2.0, 9], x[.., ^1].ToArray<double>());
        Assert.Equal(new Shape(1, 2, 3), x[TensorIndex.NewAxis].Shape);
        Assert.Equal([0.0, 2.0], x.Slice(1, 0, 3, step: 2)[0].ToArray<double>());
    }

    [Fact]
    public void Reshape_views_when_it_can_and_copies_when_it_must()
    {
        var x = Tensor.Arange(12).Reshape(3, 4);
        var v = x.Reshape(2, 6);
        Assert.True(v.IsView);
        var t = x.T.Reshape(-1);
        Assert.Equal([0.0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11], t.ToArray<double>());
        var error = Assert.Throws<InvalidOperationException>(() => x.T.View(12));
        Assert.Contains("cannot be viewed", error.Message);
        Assert.Equal(new Shape(3, 2, 2), x.T.Reshape(2, 2, 3).Permute(2, 0, 1).Shape);
        var expandedThenViewed = Tensor.Arange(3).Unsqueeze(0).Expand(2, 3).T;
        Assert.Equal([0.0, 0, 1, 1, 2, 2], expandedThenViewed.Reshape(6).ToArray<double>());
    }

    [Fact]
    public void Broadcasting_follows_numpy_rules()
    {
        var a = Tensor.Arange(3).Reshape(3, 1);
        var b = Tensor.Arange(4);
        var c = a * 10.0 + b;
        Assert.Equal(new Shape(3, 4), c.Shape);
        Assert.Equal([0.0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23], c.ToArray<double>());
        var error = Assert.Throws<ShapeMismatchException>(() => Tensor.Zeros(3, 4) + Tensor.Zeros(3));
        Assert.Contains("Add", error.Message);
        Assert.Contains("[3, 4]", error.Message);
        Assert.Contains("[3]", error.Message);
    }

    [Fact]
    public void Shape_errors_name_the_op_and_both_shapes()
    {
        var error = Assert.Throws<ShapeMismatchException>(() => Tensor.Zeros(2, 3).MatMul(Tensor.Zeros(4, 5)));
        Assert.Equal("MatMul", error.Op);
        Assert.Contains("[2, 3]", error.Message);
        Assert.Contains("[4, 5]", error.Message);
        var reshape = Assert.Throws<ShapeMismatchException>(() => Tensor.Zeros(2, 3).Reshape(4, 2));
        Assert.Contains("Reshape", reshape.Message);
    }

    [Fact]
    public void Dtype_promotion_and_int64_arithmetic()
    {
        var i = Tensor.FromArray(new long[] { 1, 2, 3 });
        Assert.Equal(DType.Int64, (i + 1).DType);
        Assert.Equal([2L, 3, 4], (i + 1).ToArray<long>());
        Assert.Equal(DType.Float32, (i * 0.5).DType);
        Assert.Equal(DType.Float64, (Tensor.Ones([1], DType.Float64) + Tensor.Ones(1)).DType);
        Assert.Equal(DType.Float32, (i / 2).DType);
    }

    [Fact]
    public void Reductions_over_dims()
    {
        var x = Tensor.FromArray(new double[] { 1, 5, 3, 4, 2, 6 }, 2, 3);
        Assert.Equal(21.0, x.Sum().Item());
        Assert.Equal([5.0, 7, 9], x.Sum(0).ToArray<double>());
        Assert.Equal(new Shape(2, 1), x.Sum(1, keepDim: true).Shape);
        Assert.Equal([5.0, 6], x.Max(1).ToArray<double>());
        Assert.Equal([1L, 2], x.ArgMax(1).ToArray<long>());
        Assert.Equal(5L, x.ArgMax().Item<long>());
        Assert.Equal([1.0, 2], x.Min(1).ToArray<double>());
        var (values, indices) = x.MaxWithIndices(0);
        Assert.Equal([4.0, 5, 6], values.ToArray<double>());
        Assert.Equal([1L, 0, 1], indices.ToArray<long>());
        Assert.Equal(3.5, x.Mean().Item(), 12);
        Assert.Equal(3.5, x.Var().Item(), 12); // Σ(x − 3.5)² = 17.5, / (6 − 1)
        Assert.Equal(Math.Log(Math.Exp(1) + Math.Exp(5) + Math.Exp(3)), x.LogSumExp(1).ToArray<double>()[0], 12);
    }

    [Fact]
    public void Softmax_is_stable_for_huge_logits()
    {
        var x = Tensor.FromArray(new double[] { 1000, 1001, 1002 });
        var p = x.Softmax(0).ToArray<double>();
        Assert.Equal(1.0, p.Sum(), 12);
        Assert.Equal(Math.Exp(2) / (1 + Math.E + Math.Exp(2)), p[2], 12);
        var logp = x.LogSoftmax(0).ToArray<double>();
        Assert.Equal(Math.Log(p[0]), logp[0], 10);
    }

    [Fact]
    public void Erf_matches_published_values()
    {
        var x = Tensor.FromArray(new[] { 0.0, 0.5, 1.0, -1.0, 2.0, 3.0, 4.5 });
        var expected = new[] { 0.0, 0.5204998778130465, 0.8427007929497149, -0.8427007929497149, 0.9953222650189527, 0.9999779095030014, 0.9999999998033839 };
        var actual = x.Erf().ToArray<double>();
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-14, $"erf({x.ToArray<double>()[i]}) = {actual[i]}, expected {expected[i]}");
    }

    [Fact]
    public void Cat_stack_gather_and_onehot()
    {
        var a = Tensor.FromArray(new double[] { 1, 2 }, 1, 2);
        var b = Tensor.FromArray(new double[] { 3, 4, 5, 6 }, 2, 2);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], Tensor.Cat([a, b]).ToArray<double>());
        Assert.Equal(new Shape(2, 2, 2), Tensor.Stack([b, b], 1).Shape);
        var picked = b.Gather(1, Tensor.FromArray(new long[] { 1, 0 }, 2, 1));
        Assert.Equal([4.0, 5], picked.ToArray<double>());
        Assert.Equal([0.0, 1, 0, 1, 0, 0], Tensor.FromArray(new long[] { 1, 0 }).OneHot(3).ToArray<double>());
        var error = Assert.Throws<IndexOutOfRangeException>(() => b.IndexSelect(0, Tensor.FromArray(new long[] { 2 })));
        Assert.Contains("out of range", error.Message);
    }

    [Fact]
    public void ToString_prints_like_pytorch()
    {
        var w = Tensor.FromArray(new float[,] { { 0.5f, -0.3f }, { 0.2f, 0.8f } }).SetRequiresGrad();
        Assert.Equal("tensor([[ 0.5000, -0.3000],\n        [ 0.2000,  0.8000]], requires_grad=True)", w.ToString());
        Assert.Equal("tensor([1., 2.])", Tensor.FromArray(new[] { 1f, 2f }).ToString());
        Assert.Equal("tensor([3, 4])", Tensor.FromArray(new long[] { 3, 4 }).ToString());
        Assert.Equal("tensor(0.2500, dtype=float64)", Tensor.Scalar(0.25, DType.Float64).ToString());
        Assert.EndsWith("grad_fn=<MulBackward>)", (w * 2.0).ToString());
        Assert.Contains("...", Tensor.Zeros(2000).ToString());
    }

    [Fact]
    public void Comparisons_and_where()
    {
        var x = Tensor.FromArray(new double[] { -1, 0, 2 });
        Assert.Equal([0.0, 0, 1], (x > 0).ToArray<double>());
        Assert.Equal([1.0, 1, 0], (x <= 0).ToArray<double>());
        Assert.Equal([0.0, 0, 2], Tensor.Where(x > 0, x, 0.0).ToArray<double>());
        Assert.Equal([0.0, 0, 1], Tensor.FromArray(new[] { 1.0, 2, double.NaN }).IsNaN().ToArray<double>());
    }

    [Fact]
    public void Relu_keeps_nan_so_anomalies_stay_visible()
    {
        var x = Tensor.FromArray(new[] { double.NaN, -1, 1 });
        var y = x.Relu().ToArray<double>();
        Assert.True(double.IsNaN(y[0]));
        Assert.Equal([0.0, 1.0], y[1..]);
    }

    [Fact]
    public void A_gradient_buffer_takes_the_layout_of_a_permuted_dense_tensor_and_is_contiguous_otherwise()
    {
        // Heads split from a [L, N, E] projection: [L, N, H, d] permuted to [N, H, L, d].
        var heads = Tensor.Zeros([5, 2, 3, 4]).Permute(1, 2, 0, 3);
        var like = Tensor.EmptyInLayoutOf(heads);
        Assert.Equal(heads.Sizes, like.Sizes);
        Assert.Equal(heads.StrideArray, like.StrideArray);
        // Back through the permute it is contiguous, so the view to [L, N, E] needs no copy.
        Assert.True(like.Permute(2, 0, 1, 3).IsContiguous);

        var strided = Tensor.Zeros([6, 4]).Slice(0, 0, 3, step: 2);
        Assert.True(Tensor.EmptyInLayoutOf(strided).IsContiguous);
        var broadcast = Tensor.Zeros([1, 4]).Expand(3, 4);
        Assert.True(Tensor.EmptyInLayoutOf(broadcast).IsContiguous);
    }
}
