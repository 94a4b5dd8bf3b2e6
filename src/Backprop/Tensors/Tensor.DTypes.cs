namespace Backprop;

public partial class Tensor
{
    /// <summary>The values as Int32 (PyTorch's <c>.int()</c>): floats are truncated toward zero.</summary>
    public Tensor Int() => To(DType.Int32);

    /// <summary>The values as Bool (PyTorch's <c>.bool()</c>): every nonzero value, NaN included, is true.</summary>
    public Tensor Bool() => To(DType.Bool);
}
