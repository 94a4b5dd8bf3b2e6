using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>The same storage seen in another shape (reshape, view, squeeze, unsqueeze, flatten).</summary>
internal sealed class ViewOp : Node, IGradchecked
{
    private readonly int[] _inputSizes;

    private ViewOp(Tensor x) : base(x) => _inputSizes = x.Sizes;

    /// <summary>The caller guarantees the layout can be viewed as <paramref name="sizes"/>.</summary>
    public static Tensor Apply(Tensor x, int[] sizes)
    {
        var strides = Tensor.ViewStrides(x.Sizes, x.StrideArray, sizes)
            ?? throw new InvalidOperationException($"View: shape {x.Shape} cannot be viewed as {Shape.Format(sizes)}.");
        var y = new Tensor(x.Storage, sizes, strides, x.Offset, x);
        return Autograd.IsRecording(x) ? new ViewOp(x).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g.Reshape(_inputSizes);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]!.Reshape(y.Sizes);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Reshape", x => x[0].Reshape(4, 3) * x[1], [3, 4], [4, 3]),
        new("Reshape infer", x => x[0].Reshape(2, -1).Exp(), [2, 3, 2]),
        new("Reshape of transposed (copies)", x => x[0].Reshape(-1) * 2.0, GradcheckInput.Transposed(3, 4)),
        new("Flatten", x => x[0].Flatten(1), [2, 3, 4]),
        new("Squeeze and Unsqueeze", x => x[0].Unsqueeze(1).Squeeze(2).Unsqueeze(0), [3, 1, 2]),
    ];
}
