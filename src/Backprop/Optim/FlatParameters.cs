namespace Backprop.Optim;

/// <summary>
/// The parameters of a second-order or quasi-Newton optimizer seen as one float64 vector (their elements in order):
/// read, written, and their gradients gathered. Those optimizers do a few vector operations per step on n values, so
/// they work on host arrays in float64 whatever the parameters' dtype.
/// </summary>
internal sealed class FlatParameters
{
    private readonly Tensor[] _parameters;

    public FlatParameters(IEnumerable<Tensor> parameters, string optimizer)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters.ToArray();
        if (_parameters.Length == 0) throw new ArgumentException($"{optimizer}: no parameters to optimize.");
        foreach (var p in _parameters)
        {
            if (!p.IsLeaf)
                throw new ArgumentException($"{optimizer}: can only optimize leaf tensors; a tensor of shape {p.Shape} was computed by {p.GradFn!.Name}.");
            if (!p.DType.IsFloatingPoint())
                throw new ArgumentException($"{optimizer}: parameters must be floating point; one of shape {p.Shape} is {p.DType.DisplayName()}.");
        }
        Count = _parameters.Sum(p => p.NumElements);
    }

    public IReadOnlyList<Tensor> Tensors => _parameters;

    /// <summary>n, the number of elements of all parameters.</summary>
    public int Count { get; }

    public double[] Values() => Gather(p => p);

    /// <summary>The gradients (zeros where a parameter's Grad is null), as PyTorch's _gather_flat_grad.</summary>
    public double[] Gradients() => Gather(p => p.Grad);

    private double[] Gather(Func<Tensor, Tensor?> select)
    {
        var flat = new double[Count];
        int offset = 0;
        using (Autograd.NoGrad())
            foreach (var p in _parameters)
            {
                if (select(p) is { } t) t.To(DType.Float64).ToArray<double>().CopyTo(flat, offset);
                offset += p.NumElements;
            }
        return flat;
    }

    /// <summary>Writes <paramref name="values"/> into the parameters (converted to each one's dtype), in place.</summary>
    public void Set(double[] values)
    {
        int offset = 0;
        using (Autograd.NoGrad())
            foreach (var p in _parameters)
            {
                var slice = values.AsSpan(offset, p.NumElements).ToArray();
                p.CopyFrom(Tensor.FromArray(slice, p.Device, DType.Float64).Reshape(p.Sizes));
                offset += p.NumElements;
            }
    }

    /// <summary>Writes x + t·d into the parameters.</summary>
    public void SetStep(double[] x, double t, double[] d)
    {
        var moved = new double[Count];
        for (int i = 0; i < moved.Length; i++) moved[i] = x[i] + t * d[i];
        Set(moved);
    }

    public void ZeroGrad()
    {
        foreach (var p in _parameters) p.ZeroGrad();
    }

    public static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    public static double MaxAbs(double[] a)
    {
        double max = 0;
        foreach (var v in a) max = Math.Max(max, Math.Abs(v));
        return max;
    }
}
