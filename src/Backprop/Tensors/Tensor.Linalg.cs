using Backprop.Ops;

namespace Backprop;

public partial class Tensor
{
    /// <summary>Matrix product with NumPy's rules (torch.matmul); see <see cref="MatMul(Tensor, Tensor)"/>.</summary>
    public Tensor MatMul(Tensor other) => MatMul(this, other);

    /// <summary>
    /// Matrix product. 2-D × 2-D is the usual product; 1-D operands are treated as a row (left) or column (right) vector
    /// and that dimension is removed from the result; higher ranks are batches of matrices whose batch dims broadcast.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor b)
    {
        (a, b) = (Autocast.ToLowPrecision(a), Autocast.ToLowPrecision(b));
        if (a.Rank == 0 || b.Rank == 0)
            throw new ShapeMismatchException("MatMul", $"both operands need at least one dimension; got {a.Shape} and {b.Shape}");
        if (a.Device != b.Device)
            throw new ArgumentException($"MatMul: operands are on different devices ({a.Device} and {b.Device}).");
        if (a.DType != b.DType)
        {
            var dtype = DTypes.Promote(a.DType, b.DType);
            a = a.To(dtype);
            b = b.To(dtype);
        }
        if (a.Rank == 1 && b.Rank == 1)
        {
            CheckInner(a, b, a.Sizes[0], b.Sizes[0]);
            return MatMul(a.Unsqueeze(0), b.Unsqueeze(1)).Reshape();
        }
        if (a.Rank == 1) return MatMul(a.Unsqueeze(0), b).Squeeze(-2);
        if (b.Rank == 1) return MatMul(a, b.Unsqueeze(1)).Squeeze(-1);

        int m = a.Sizes[^2], k = a.Sizes[^1], n = b.Sizes[^1];
        CheckInner(a, b, k, b.Sizes[^2]);
        var batchA = Shape.Wrap(a.Sizes[..^2]);
        var batchB = Shape.Wrap(b.Sizes[..^2]);
        var batch = Shape.Broadcast(batchA, batchB, "MatMul").Dims;
        a = a.ExpandTo([.. batch, m, k]);
        b = b.ExpandTo([.. batch, k, n]);
        return MatMulOp.Apply(a, b);
    }

    private static void CheckInner(Tensor a, Tensor b, int k1, int k2)
    {
        if (k1 != k2)
            throw new ShapeMismatchException("MatMul", $"shapes {a.Shape} and {b.Shape} cannot be multiplied ({k1} ≠ {k2})");
    }

    /// <summary>Dot product of two 1-D tensors.</summary>
    public Tensor Dot(Tensor other)
    {
        if (Rank != 1 || other.Rank != 1)
            throw new ShapeMismatchException("Dot", $"needs two 1-D tensors; got {Shape} and {other.Shape}");
        return MatMul(this, other);
    }
}
