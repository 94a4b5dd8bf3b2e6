namespace Backprop;

public partial class Tensor
{
    /// <summary>The values as Int32 (PyTorch's <c>.int()</c>): floats are truncated toward zero.</summary>
    public Tensor Int() => To(DType.Int32);

    /// <summary>The values as Bool (PyTorch's <c>.bool()</c>): every nonzero value, NaN included, is true.</summary>
    public Tensor Bool() => To(DType.Bool);

    /// <summary>Element-wise: whether the value is +∞ or −∞.</summary>
    public Tensor IsInf() => DType.IsFloatingPoint() ? Abs().Eq(double.PositiveInfinity) : FalseLike(this);

    /// <summary>Element-wise: whether the value is neither infinite nor NaN.</summary>
    public Tensor IsFinite() => DType.IsFloatingPoint() ? Abs().Lt(double.PositiveInfinity) : LogicalNot(FalseLike(this));

    /// <summary>Element-wise logical and (PyTorch's <c>logical_and</c>): operands of any dtype, nonzero is true; a Bool result.</summary>
    public Tensor And(Tensor other) => Where(Truth(this), Truth(other), BoolScalar(false));

    /// <summary>Element-wise logical or (PyTorch's <c>logical_or</c>): operands of any dtype, nonzero is true; a Bool result.</summary>
    public Tensor Or(Tensor other) => Where(Truth(this), BoolScalar(true), Truth(other));

    /// <summary>Element-wise logical exclusive or (PyTorch's <c>logical_xor</c>); a Bool result.</summary>
    public Tensor Xor(Tensor other) => Truth(this).Ne(Truth(other));

    /// <summary>Element-wise logical not (PyTorch's <c>logical_not</c>): true where the value is zero (NaN is nonzero).</summary>
    public Tensor Not() => LogicalNot(this);

    /// <summary>Whether any element is nonzero, as a 0-dim Bool (false for an empty tensor).</summary>
    public Tensor Any() => Truth(this).To(DType.Int64).Sum().Gt(0.0);

    /// <summary>Whether any element along <paramref name="dim"/> is nonzero, as Bool.</summary>
    public Tensor Any(int dim, bool keepDim = false) => Truth(this).To(DType.Int64).Sum(dim, keepDim).Gt(0.0);

    /// <summary>Whether every element is nonzero, as a 0-dim Bool (true for an empty tensor).</summary>
    public Tensor All() => LogicalNot(LogicalNot(this).Any());

    /// <summary>Whether every element along <paramref name="dim"/> is nonzero, as Bool.</summary>
    public Tensor All(int dim, bool keepDim = false) => LogicalNot(LogicalNot(this).Any(dim, keepDim));

    private static Tensor Truth(Tensor t) => t.DType == DType.Bool ? t : t.Ne(0.0);

    private static Tensor LogicalNot(Tensor t) => t.DType == DType.Bool ? t.Eq(BoolScalar(false, t.Device)) : t.Eq(0.0);

    private Tensor BoolScalar(bool value) => BoolScalar(value, Device);

    private static Tensor BoolScalar(bool value, Device device) => Scalar(value ? 1 : 0, DType.Bool, device);

    private static Tensor FalseLike(Tensor t) => Zeros(t.Shape, DType.Bool, t.Device);
}
