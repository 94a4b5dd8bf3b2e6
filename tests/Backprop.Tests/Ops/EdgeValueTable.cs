namespace Backprop.Tests.Ops;

/// <summary>A tensor of the edge-value table, written as its shape and its row-major values.</summary>
public sealed record EdgeTensor(int[] Shape, double[] Values)
{
    public static implicit operator EdgeTensor(double value) => new([], [value]);

    /// <summary>The values repeated <paramref name="times"/> times along a 1-D tensor.</summary>
    public EdgeTensor Tiled(int times) =>
        new([Values.Length * times], Enumerable.Repeat(Values, times).SelectMany(v => v).ToArray());

    public Tensor ToTensor(DType dtype) => Tensor.FromArray((double[])Values.Clone(), Shape).To(dtype);

    public override string ToString() => Backprop.Shape.Format(Shape);
}

/// <summary>
/// One row of the edge-value table: an op, a call of it on inputs at its edge values, the forward value and the
/// gradient of every input that PyTorch documents or computes (a null gradient: that input is a constant). The
/// gradient is taken for the upstream gradient <see cref="Upstream"/>, all ones unless a row says otherwise.
/// </summary>
public sealed record EdgeRow(Type Op, string Case, Func<Tensor[], Tensor> Function, EdgeTensor[] Inputs, EdgeTensor? Value,
    EdgeTensor?[] Gradients)
{
    public EdgeTensor? Upstream { get; init; }

    /// <summary>Element-wise on equal 1-D inputs: the row is also run tiled, so the vectorised kernels see the values.</summary>
    public bool Pointwise { get; init; }

    /// <summary>The dtypes the row runs in; float32 rows compare at float32 tolerances.</summary>
    public DType[] DTypes { get; init; } = [DType.Float64, DType.Float32];

    /// <summary>When set, the call must throw this exception type (or a subclass) instead of returning a value.</summary>
    public Type? Throws { get; init; }

    public double Float64Tolerance { get; init; } = 1e-12;
    public double Float32Tolerance { get; init; } = 2e-6;

    /// <summary>The tolerance is relative, times max(this, |expected|): absolute for expected values below it.</summary>
    public double AbsoluteFloor { get; init; } = 1;

    public string Name => $"{Op.Name}: {Case}";

    public override string ToString() => Name;
}
