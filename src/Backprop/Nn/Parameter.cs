namespace Backprop.Nn;

/// <summary>
/// A tensor that is a learnable weight of a module: a leaf that requires grad, sharing the storage of the tensor it
/// was made from. Modules find their parameters by looking for fields of this type.
/// </summary>
/// <example><c>var weight = new Parameter(Tensor.Randn(3, 4));</c></example>
public sealed class Parameter : Tensor
{
    /// <summary>Wraps <paramref name="data"/>'s storage (no copy) as a leaf without history.</summary>
    /// <param name="requiresGrad">False for a frozen weight; it is still a parameter (in state dicts and optimizers' lists).</param>
    public Parameter(Tensor data, bool requiresGrad = true)
        : base(data.Storage, data.Sizes, data.StrideArray, data.Offset)
    {
        if (requiresGrad) RequiresGrad = true;
    }

    public override string ToString() => "Parameter containing:\n" + base.ToString();
}
