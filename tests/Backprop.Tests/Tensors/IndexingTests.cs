namespace Backprop.Tests.Tensors;

/// <summary>
/// The indexer against PyTorch's rules, with values worked out by hand. The source is x = arange(24).view(2, 3, 4) in
/// float64, so every value is its own row-major position: x[i, j, k] = 12i + 4j + k.
/// </summary>
public class IndexingTests
{
    private static Tensor Source() => Tensor.Arange(24, DType.Float64).Reshape(2, 3, 4);

    private static Tensor Idx(params long[] values) => Tensor.FromArray(values, values.Length);

    private static double[] Seq(int start, int count) => Enumerable.Range(start, count).Select(i => (double)i).ToArray();

    private static void AssertTensor(int[] shape, double[] values, Tensor actual, string what)
    {
        Assert.True(actual.Shape == new Shape(shape), $"{what}: shape {actual.Shape}, expected {Shape.Format(shape)}");
        var got = actual.ToArray<double>();
        Assert.True(values.SequenceEqual(got), $"{what}: [{string.Join(", ", got)}], expected [{string.Join(", ", values)}]");
    }

    public static TheoryData<string> ReadCases => new(Reads.Keys);

    private static readonly Dictionary<string, (Func<Tensor, Tensor> Index, int[] Shape, double[] Values)> Reads = new()
    {
        ["one index tensor"] = (x => x[Idx(1, 0)], [2, 3, 4], [.. Seq(12, 12), .. Seq(0, 12)]),
        ["index tensor after a full slice"] = (x => x[.., Idx(0, 2)], [2, 2, 4], [.. Seq(0, 4), .. Seq(8, 4), .. Seq(12, 4), .. Seq(20, 4)]),
        ["two adjacent index tensors at the front"] = (x => x[Idx(0, 1), Idx(1, 2)], [2, 4], [.. Seq(4, 4), .. Seq(20, 4)]),
        // x[:, [0, 2], [1, 3]]: adjacent, so the batch dim stays where dim 1 was.
        ["two adjacent index tensors after a slice"] = (x => x[.., Idx(0, 2), Idx(1, 3)], [2, 2], [1, 11, 13, 23]),
        // x[[0, 1], :, [1, 3]]: separated by a slice, so the batch dim goes first.
        ["separated index tensors"] = (x => x[Idx(0, 1), .., Idx(1, 3)], [2, 3], [1, 5, 9, 15, 19, 23]),
        // PyTorch selects with the int first (NumPy would count it as an advanced index and move the batch to the front).
        ["int then index tensor"] = (x => x[0, .., Idx(1, 3)], [3, 2], [1, 3, 5, 7, 9, 11]),
        ["broadcast index tensors"] = (x => x[Tensor.FromArray(new long[] { 0, 1 }, 2, 1), Idx(0, 2)], [2, 2, 4],
            [.. Seq(0, 4), .. Seq(8, 4), .. Seq(12, 4), .. Seq(20, 4)]),
        ["negative indices"] = (x => x[Idx(-1), Idx(-1), Idx(-1)], [1], [23]),
        ["empty index tensor"] = (x => x[Idx()], [0, 3, 4], []),
        ["ellipsis then index tensor"] = (x => x[TensorIndex.Ellipsis, Idx(3, 0)], [2, 3, 2], [3, 0, 7, 4, 11, 8, 15, 12, 19, 16, 23, 20]),
        ["new axis, then index tensor"] = (x => x[TensorIndex.NewAxis, 1, Idx(2)], [1, 1, 4], Seq(20, 4)),
        ["mask over the trailing dims"] = (x => x[.., TensorIndex.Mask((x[0] % 5).Eq(0))], [2, 3], [0, 5, 10, 12, 17, 22]),
        ["mask over every dim"] = (x => x[TensorIndex.Mask(x > 20)], [3], [21, 22, 23]),
        ["mask selecting nothing"] = (x => x[TensorIndex.Mask(x > 100)], [0], []),
        // A Bool tensor in the indexer is a mask by itself, as in PyTorch.
        ["bool tensor as a mask"] = (x => x[x.Gt(20)], [3], [21, 22, 23]),
        ["bool mask over the trailing dims"] = (x => x[1, (x[0] % 5).Eq(0)], [3], [12, 17, 22]),
        ["true 0-dim mask"] = (x => x[TensorIndex.Mask(Tensor.Scalar(1))][0, 0, 0], [4], Seq(0, 4)),
        ["false 0-dim mask"] = (x => x[TensorIndex.Mask(Tensor.Scalar(0))], [0, 2, 3, 4], []),
        ["reversed"] = (x => x[0, 0, TensorIndex.Slice(null, null, -1)], [4], [3, 2, 1, 0]),
        ["reversed with step 2"] = (x => x[0, 0, TensorIndex.Slice(3, 0, -2)], [2], [3, 1]),
        ["reversed between negative bounds"] = (x => x[0, 0, TensorIndex.Slice(-1, -5, -1)], [4], [3, 2, 1, 0]),
        ["reversed from an index to the start"] = (x => x[0, 0, TensorIndex.Slice(1, null, -1)], [2], [1, 0]),
        ["reversed from past the end"] = (x => x[0, 0, TensorIndex.Slice(10, null, -3)], [2], [3, 0]),
        ["reversed empty"] = (x => x[0, 0, TensorIndex.Slice(0, 3, -1)], [0], []),
        ["reversed rows"] = (x => x[1, TensorIndex.Slice(null, null, -1), 0], [3], [20, 16, 12]),
        ["positive step"] = (x => x[0, 0, TensorIndex.Slice(null, null, 2)], [2], [0, 2]),
        // x.permute(2, 1, 0)[[1, 3], 0] = x[:, 0, [1, 3]].T
        ["index tensor into a permuted view"] = (x => x.Permute(2, 1, 0)[Idx(1, 3), 0], [2, 2], [1, 13, 3, 15]),
    };

    [Theory]
    [MemberData(nameof(ReadCases))]
    public void Reads_follow_PyTorch(string name)
    {
        var (index, shape, values) = Reads[name];
        AssertTensor(shape, values, index(Source()), name);
    }

    public static TheoryData<string> WriteCases => new(Writes.Keys);

    /// <summary>Each write changes the listed positions of x (row-major) to the listed values; the others keep theirs.</summary>
    private static readonly Dictionary<string, (Action<Tensor> Write, int[] Positions, double[] Values)> Writes = new()
    {
        ["scalar into a slice"] = (x => x[0, 1..3] = Tensor.Scalar(-7, DType.Float64), [.. Enumerable.Range(4, 8)], [.. Enumerable.Repeat(-7.0, 8)]),
        ["scalar overload"] = (x => x.IndexAssign([1, 2, ^1], -1), [23], [-1]),
        ["tensor through index tensors"] = (x => x[Idx(0, 1), Idx(1, 2)] = Tensor.Arange(1, 9, 1, DType.Float64).Reshape(2, 4),
            [4, 5, 6, 7, 20, 21, 22, 23], [1, 2, 3, 4, 5, 6, 7, 8]),
        ["broadcast row through separated index tensors"] = (x => x[.., Idx(0, 2), Idx(1, 3)] = Tensor.FromArray(new double[] { 100, 200 }),
            [1, 11, 13, 23], [100, 200, 100, 200]),
        ["through a mask"] = (x => x[TensorIndex.Mask(x > 20)] = Tensor.Scalar(-1, DType.Float64), [21, 22, 23], [-1, -1, -1]),
        ["through a reversed slice"] = (x => x[1, 0, TensorIndex.Slice(null, null, -1)] = Tensor.Arange(4, DType.Float64),
            [12, 13, 14, 15], [3, 2, 1, 0]),
        ["float32 values into float64"] = (x => x[0, 0, 0] = Tensor.Scalar(0.5), [0], [0.5]),
        ["empty index"] = (x => x[Idx()] = Tensor.Scalar(5, DType.Float64), [], []),
        // x.permute(2, 1, 0)[[0], 1] is x[:, 1, 0].
        ["into a permuted view"] = (x => x.Permute(2, 1, 0)[Idx(0), 1] = Tensor.Scalar(9, DType.Float64), [4, 16], [9, 9]),
        ["into a view of a view"] = (x => x[1][Idx(2)] = Tensor.Scalar(9, DType.Float64), [20, 21, 22, 23], [9, 9, 9, 9]),
    };

    [Theory]
    [MemberData(nameof(WriteCases))]
    public void Writes_change_exactly_the_indexed_elements(string name)
    {
        var (write, positions, values) = Writes[name];
        var expected = Seq(0, 24);
        for (int i = 0; i < positions.Length; i++) expected[positions[i]] = values[i];
        var x = Source();
        int version = x.Version;
        write(x);
        AssertTensor([2, 3, 4], expected, x, name);
        Assert.True(x.Version > version, $"{name}: the version counter did not move");
    }

    [Fact]
    public void Writes_into_a_non_contiguous_tensor_land_in_its_storage()
    {
        var x = Source();
        var t = x.Transpose(0, 2).Detach();
        t[Idx(3), 2] = Tensor.FromArray(new double[] { -1, -2 });
        var expected = Seq(0, 24);
        expected[11] = -1;
        expected[23] = -2;
        AssertTensor([2, 3, 4], expected, x, "x after writing x.T.detach()[[3], 2]");
    }

    [Fact]
    public void A_bool_mask_writes_where_it_is_true()
    {
        var x = Source();
        x[x.Lt(3)] = Tensor.Scalar(-1.0);
        var expected = Seq(0, 24);
        expected[0] = expected[1] = expected[2] = -1;
        AssertTensor([2, 3, 4], expected, x, "x after x[x < 3] = -1");
    }

    [Fact]
    public void Bad_indices_are_refused_with_the_shapes()
    {
        var x = Source();
        var floatIndex = Assert.Throws<ArgumentException>(() => x[Tensor.FromArray(new double[] { 0, 1 })]);
        Assert.Contains("TensorIndex.Mask", floatIndex.Message);
        var outOfRange = Assert.Throws<IndexOutOfRangeException>(() => x[.., Idx(3)]);
        Assert.Contains("size 3", outOfRange.Message);
        var mask = Assert.Throws<ShapeMismatchException>(() => x[TensorIndex.Mask(Tensor.Ones(3, 3))]);
        Assert.Contains("[3, 3]", mask.Message);
        Assert.Throws<ArgumentException>(() => x[TensorIndex.Ellipsis, 0, TensorIndex.Ellipsis]);
        Assert.Throws<IndexOutOfRangeException>(() => x[0, 0, 0, Idx(0)]);
        Assert.Throws<ArgumentException>(() => TensorIndex.Slice(step: 0));
        Assert.Throws<ShapeMismatchException>(() => x[Idx(0, 1), Idx(0, 1, 2)]);
        var value = Assert.Throws<ShapeMismatchException>(() => x[Idx(0, 1)] = Tensor.Zeros(3));
        Assert.Contains("Indexer", value.Message);
    }

    [Fact]
    public void Basic_indices_give_views_and_advanced_ones_copies()
    {
        var x = Source();
        Assert.True(x[0, 1..][TensorIndex.NewAxis].IsView);
        var copy = x[Idx(0)];
        copy.FillInPlace(0);
        Assert.Equal(1.0, x[0, 0, 1].Item());
    }

    [Fact]
    public void Int64_tensors_are_indexed_and_written_alike()
    {
        var x = Tensor.FromArray(new long[] { 10, 11, 12, 13, 14, 15 }, 2, 3);
        Assert.Equal(new long[] { 15, 10 }, x[Idx(1, 0), Idx(-1, 0)].ToArray<long>());
        Assert.Equal(new long[] { 12, 11, 10 }, x[0, TensorIndex.Slice(null, null, -1)].ToArray<long>());
        x[TensorIndex.Mask(x.Gt(12))] = Tensor.FromArray(new long[] { -1, -2, -3 });
        x.IndexAssign([0, Idx(1)], 7);
        Assert.Equal(new long[] { 10, 7, 12, -1, -2, -3 }, x.ToArray<long>());
    }

    // ---- writes while recording (CopySlices) ----

    [Fact]
    public void A_write_into_a_slice_of_a_clone_sends_gradients_to_the_value_and_the_rest_of_the_base()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } }).SetRequiresGrad();
        var w = Tensor.FromArray(new double[] { 10, 20 }).SetRequiresGrad();
        var weights = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var y = a.Clone();
        y[0, 1..] = w;
        AssertTensor([2, 3], [1, 10, 20, 4, 5, 6], y, "y");
        Assert.False(y.IsLeaf);
        (y * weights).Sum().Backward();
        AssertTensor([2, 3], [1, 0, 0, 4, 5, 6], a.Grad!, "a.grad: zero where overwritten");
        AssertTensor([2], [2, 3], w.Grad!, "w.grad: the weights of the written positions");
    }

    [Fact]
    public void Writing_a_value_that_requires_grad_into_a_plain_tensor_puts_it_on_the_graph()
    {
        var w = Tensor.FromArray(new double[] { 2, 3 }).SetRequiresGrad();
        var x = Tensor.Zeros(new Shape(4), DType.Float64);
        x[TensorIndex.Mask(Tensor.FromArray(new double[] { 0, 1, 0, 1 }))] = w;
        Assert.True(x.RequiresGrad);
        Assert.False(x.IsLeaf);
        x.Square().Sum().Backward();
        AssertTensor([2], [4, 6], w.Grad!, "w.grad = 2w");
    }

    [Fact]
    public void Views_made_before_a_write_read_the_new_history()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } }).SetRequiresGrad();
        var w = Tensor.Scalar(7, DType.Float64, requiresGrad: true);
        var y = a.Clone();
        var row = y[1];
        y[1, 0] = w;
        AssertTensor([3], [7, 5, 6], row, "row");
        (row * Tensor.FromArray(new double[] { 1, 2, 3 })).Sum().Backward();
        AssertTensor([2, 3], [0, 0, 0, 0, 2, 3], a.Grad!, "a.grad");
        Assert.Equal(1.0, w.Grad!.Item());
    }

    [Fact]
    public void An_in_place_op_on_a_view_of_a_non_leaf_is_recorded()
    {
        var a = Tensor.FromArray(new double[] { 1, 2, 3 }).SetRequiresGrad();
        var y = a * 2;
        y[1..].AddInPlace(a[..2].Square());
        AssertTensor([3], [2, 5, 10], y, "y");
        y.Sum().Backward();
        // y = [2a₀, 2a₁ + a₀², 2a₂ + a₁²]
        AssertTensor([3], [2 + 2 * 1, 2 + 2 * 2, 2], a.Grad!, "a.grad");
    }

    [Fact]
    public void Leaves_that_require_grad_and_their_views_still_refuse_in_place_writes()
    {
        var a = Tensor.Ones(new Shape(2, 3), DType.Float64).SetRequiresGrad();
        var leaf = Assert.Throws<InvalidOperationException>(() => a[Idx(0)] = Tensor.Scalar(0, DType.Float64));
        Assert.Contains("leaf", leaf.Message);
        Assert.Throws<InvalidOperationException>(() => a[0, 1..] = Tensor.Scalar(0, DType.Float64));
        Assert.Throws<InvalidOperationException>(() => a[0].AddInPlace(1));
        using (Autograd.NoGrad()) a[0, Idx(2)] = Tensor.Scalar(5, DType.Float64);
        AssertTensor([2, 3], [1, 1, 5, 1, 1, 1], a, "a after a write without grad");
        Assert.True(a.IsLeaf);
    }

    [Fact]
    public void A_write_over_a_tensor_saved_for_backward_raises_the_in_place_error()
    {
        var a = Tensor.FromArray(new double[] { 1, 2, 3 }).SetRequiresGrad();
        var y = a.Clone();
        var squared = y.Square();
        int version = y.Version;
        y[Idx(0)] = Tensor.Scalar(0, DType.Float64);
        Assert.Equal(version + 1, y.Version);
        var error = Assert.Throws<InvalidOperationException>(() => squared.Sum().Backward());
        Assert.Contains("modified by an in-place operation", error.Message);
        Assert.Contains("Indexer", error.Message);
    }

    [Fact]
    public void A_write_through_a_view_bumps_the_shared_version()
    {
        var a = Tensor.FromArray(new double[] { 1, 2, 3 }).SetRequiresGrad();
        var y = a.Clone();
        var view = y[1..];
        int version = y.Version;
        view[0] = Tensor.Scalar(9, DType.Float64);
        Assert.Equal(version + 1, y.Version);
        Assert.Equal(version + 1, view.Version);
        AssertTensor([3], [1, 9, 3], y, "y");
    }
}
