using Backprop.Nn;

namespace Backprop.Distributed;

/// <summary>
/// Parameters of one dtype whose gradients are all-reduced together, as one flat buffer: a few large messages cost
/// far less than one per parameter.
/// </summary>
internal sealed class GradientBucket
{
    public GradientBucket(int index, DType dtype, IReadOnlyList<(string Name, Parameter Parameter)> members)
    {
        Index = index;
        DType = dtype;
        Members = members;
        Offsets = new int[members.Count];
        int total = 0;
        for (int i = 0; i < members.Count; i++)
        {
            Offsets[i] = total;
            total = checked(total + (int)members[i].Parameter.NumElements);
        }
        if (dtype == DType.Float64) Doubles = new double[total];
        else Floats = new float[total];
        Ready = new bool[members.Count];
    }

    public int Index { get; }

    public DType DType { get; }

    public IReadOnlyList<(string Name, Parameter Parameter)> Members { get; }

    /// <summary>Where each member's gradient starts in the flat buffer.</summary>
    public int[] Offsets { get; }

    /// <summary>The flat buffer: exactly one of the two, by dtype.</summary>
    public float[]? Floats { get; }

    public double[]? Doubles { get; }

    /// <summary>Which members have their gradient in the buffer this backward pass.</summary>
    public bool[] Ready { get; }

    public int ReadyCount { get; set; }

    public bool IsFull => ReadyCount == Members.Count;

    public long Bytes => (long)(Floats?.Length ?? Doubles!.Length) * DType.ElementSize();

    public void Reset()
    {
        Array.Clear(Ready);
        ReadyCount = 0;
    }

    /// <summary>Copies member <paramref name="i"/>'s gradient into the buffer.</summary>
    public void Pack(int i, Tensor grad)
    {
        int length = (int)Members[i].Parameter.NumElements;
        if (Floats is { } f) grad.CopyTo(f.AsSpan(Offsets[i], length));
        else grad.CopyTo(Doubles.AsSpan(Offsets[i], length));
    }

    /// <summary>Sums the buffer over the group and divides by its size: the mean gradient.</summary>
    public void AllReduceMean(IProcessGroup group)
    {
        if (Floats is { } f)
        {
            group.AllReduceSum(f);
            float scale = 1f / group.Size;
            System.Numerics.Tensors.TensorPrimitives.Multiply(f, scale, f);
        }
        else
        {
            var d = Doubles!;
            group.AllReduceSum(d);
            System.Numerics.Tensors.TensorPrimitives.Multiply(d, 1.0 / group.Size, d);
        }
    }

    /// <summary>Writes the averaged buffer back into each member's gradient, in place.</summary>
    public void Unpack()
    {
        using var _ = Autograd.NoGrad();
        for (int i = 0; i < Members.Count; i++)
        {
            var (_, parameter) = Members[i];
            int length = (int)parameter.NumElements;
            var grad = parameter.Grad!;
            if (Floats is { } f) grad.CopyFrom<float>(f.AsSpan(Offsets[i], length));
            else grad.CopyFrom<double>(Doubles.AsSpan(Offsets[i], length));
        }
    }
}
