namespace Backprop;

/// <summary>
/// What a backend kernel sees of a tensor: a storage and the layout of one view of it
/// (sizes, strides in elements, offset). It carries nothing about autograd.
/// </summary>
public readonly struct StridedView
{
    public readonly Storage Storage;
    public readonly int[] Shape;
    public readonly int[] Strides;
    public readonly int Offset;
    public readonly bool IsContiguous;

    /// <summary>Number of elements (the product of <see cref="Shape"/>), computed once.</summary>
    public readonly int NumElements;

    public StridedView(Storage storage, int[] shape, int[] strides, int offset, bool isContiguous)
        : this(storage, shape, strides, offset, isContiguous, Backprop.Shape.CountElements(shape)) { }

    internal StridedView(Storage storage, int[] shape, int[] strides, int offset, bool isContiguous, int numElements)
    {
        Storage = storage;
        Shape = shape;
        Strides = strides;
        Offset = offset;
        IsContiguous = isContiguous;
        NumElements = numElements;
    }

    /// <summary>A contiguous view of the first <paramref name="shape"/>-many elements of a storage.</summary>
    public static StridedView Contiguous(Storage storage, int[] shape, int offset = 0) =>
        new(storage, shape, Backprop.Shape.ContiguousStrides(shape), offset, true);

    public int Rank => Shape.Length;


    public DType DType => Storage.DType;

    internal static bool ComputeIsContiguous(ReadOnlySpan<int> shape, ReadOnlySpan<int> strides)
    {
        int expected = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            if (shape[i] == 1) continue;
            if (strides[i] != expected) return false;
            expected *= shape[i];
        }
        return true;
    }
}
