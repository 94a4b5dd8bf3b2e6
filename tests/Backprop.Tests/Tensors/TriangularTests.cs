namespace Backprop.Tests.Tensors;

public class TriangularTests
{
    private static readonly Tensor Square = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 } });

    [Fact]
    public void Tril_and_triu_keep_their_triangle_for_any_diagonal_and_zero_even_nan_elsewhere()
    {
        Assert.Equal([1.0, 0, 0, 4, 5, 0, 7, 8, 9], Square.Tril().ToArray<double>());
        Assert.Equal([1.0, 2, 0, 4, 5, 6, 7, 8, 9], Square.Tril(1).ToArray<double>());
        Assert.Equal([0.0, 0, 0, 4, 0, 0, 7, 8, 0], Square.Tril(-1).ToArray<double>());
        Assert.Equal([1.0, 2, 3, 0, 5, 6, 0, 0, 9], Square.Triu().ToArray<double>());
        Assert.Equal([0.0, 2, 3, 0, 0, 6, 0, 0, 0], Square.Triu(1).ToArray<double>());
        var withNaN = Tensor.FromArray(new[,] { { 1.0, double.NaN }, { 2.0, 3.0 } });
        Assert.Equal([1.0, 0, 2, 3], withNaN.Tril().ToArray<double>());
        var batch = Tensor.Stack([Square, Square * 2.0]).MT;
        Assert.Equal([1.0, 0, 0, 2, 5, 0, 3, 6, 9, 2, 0, 0, 4, 10, 0, 6, 12, 18], batch.Tril().ToArray<double>());
    }

    [Theory]
    [InlineData(DType.Bool)]
    [InlineData(DType.Int64)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Float32)]
    public void Tril_and_triu_keep_the_dtype_so_a_bool_causal_mask_stays_bool(DType dtype)
    {
        var ones = Tensor.Ones([2, 3], dtype);
        var lower = ones.Tril();
        Assert.Equal(dtype, lower.DType);
        Assert.Equal(dtype, ones.Triu(1).DType);
        Assert.Equal([1.0, 0, 0, 1, 1, 0], lower.To(DType.Float64).ToArray<double>());
    }

    [Fact]
    public void Diagonal_diag_and_diag_embed_follow_torch()
    {
        Assert.Equal([1.0, 5, 9], Square.Diagonal().ToArray<double>());
        Assert.Equal([2.0, 6], Square.Diagonal(1).ToArray<double>());
        Assert.Equal([7.0], Square.Diagonal(-2).ToArray<double>());
        Assert.Equal(new Shape(0), Square.Diagonal(3).Shape);
        Assert.Equal([4.0, 8], Square.MT.Diagonal(1).ToArray<double>());
        var wide = Tensor.FromArray(new double[,] { { 1, 2, 3, 4 }, { 5, 6, 7, 8 } });
        Assert.Equal([2.0, 7], wide.Diagonal(1).ToArray<double>());
        Assert.Equal([5.0], wide.Diagonal(-1).ToArray<double>());
        var v = Tensor.FromArray(new[] { 1.0, 2.0 });
        Assert.Equal([1.0, 0, 0, 2], v.DiagEmbed().ToArray<double>());
        Assert.Equal([0.0, 1, 0, 0, 0, 2, 0, 0, 0], v.Diag(1).ToArray<double>());
        Assert.Equal([0.0, 0, 0, 1, 0, 0, 0, 2, 0], v.Diag(-1).ToArray<double>());
        Assert.Equal([2.0, 6], Square.Diag(1).ToArray<double>());
    }

    [Fact]
    public void Gradients_of_tril_and_diagonal_land_on_the_kept_elements()
    {
        var x = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        x.RequiresGrad = true;
        (x.Tril().Sum() + x.Diagonal().Sum() * 10.0).Backward();
        Assert.Equal([11.0, 0, 1, 11], x.Grad!.ToArray<double>());
    }
}
