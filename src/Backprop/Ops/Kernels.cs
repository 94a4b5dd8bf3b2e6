namespace Backprop.Ops;

/// <summary>Runs a backend kernel into a fresh contiguous output. No graph is recorded here.</summary>
internal static class Kernels
{
    public static Tensor Unary(UnaryOp op, Tensor x, double arg0 = 0, double arg1 = 0)
    {
        var y = Tensor.EmptyLike(x);
        x.Backend.Unary(op, x.Strided, y.Strided, arg0, arg1);
        return y;
    }

    /// <summary>a and b must already share shape, dtype and device.</summary>
    public static Tensor Binary(BinaryOp op, Tensor a, Tensor b)
    {
        var y = Tensor.EmptyLike(a.IsContiguous || !b.IsContiguous ? a : b);
        a.Backend.Binary(op, a.Strided, b.Strided, y.Strided);
        return y;
    }

    public static Tensor Reduce(ReduceOp op, Tensor x, bool[] reduced)
    {
        var keep = new int[x.Rank];
        for (int d = 0; d < x.Rank; d++) keep[d] = reduced[d] ? 1 : x.Sizes[d];
        var y = Tensor.Empty(keep, x.DType, x.Backend);
        x.Backend.Reduce(op, x.Strided, y.Strided);
        return y;
    }
}
