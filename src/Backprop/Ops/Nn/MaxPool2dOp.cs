using Backprop.Diagnostics;
using static Backprop.Nn.Functional;

namespace Backprop.Ops;

/// <summary>
/// 2-D max pooling. The forward kernel records where each maximum came from; the backward routes every output
/// gradient to that position (<see cref="MaxPool2dBackwardOp"/>, a scatter-add: overlapping windows may send
/// several to one position).
/// </summary>
internal sealed class MaxPool2dOp : Node, IGradchecked
{
    private readonly int[] _inputSizes;

    private MaxPool2dOp(Tensor x, Tensor indices) : base(x)
    {
        _inputSizes = x.Sizes;
        Save(indices);
    }

    /// <returns>The pooled values [N, C, OH, OW] and their Int64 flat positions h·W + w in each input plane.</returns>
    public static (Tensor Output, Tensor Indices) Apply(Tensor x, Window2d window, int outHeight, int outWidth)
    {
        int[] sizes = [x.Sizes[0], x.Sizes[1], outHeight, outWidth];
        var y = Tensor.Empty(sizes, x.DType, x.Backend);
        var indices = Tensor.Empty(sizes, DType.Int64, x.Backend);
        x.Backend.MaxPool2d(x.Strided, y.Strided, indices.Strided, window);
        return (Autograd.IsRecording(x) ? new MaxPool2dOp(x, indices).Attach(y) : y, indices);
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = MaxPool2dBackwardOp.Apply(g, Saved(0), _inputSizes);

    // Each output takes the tangent of the element it picked.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        int n = y.Sizes[0], c = y.Sizes[1];
        return t[0]!.Reshape(n, c, -1).Gather(2, Saved(0).Reshape(n, c, -1)).Reshape(y.Sizes);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("MaxPool2d", x => MaxPool2d(x[0], 2), [2, 2, 4, 4]),
        new("MaxPool2d odd size", x => MaxPool2d(x[0], 2), [1, 2, 5, 3]),
        new("MaxPool2d overlapping padding", x => MaxPool2d(x[0], 3, stride: 2, padding: 1), [1, 2, 5, 5]),
        new("MaxPool2d non-square dilation", x => MaxPool2d(x[0], (2, 3), stride: (1, 2), dilation: (2, 1)), [1, 1, 5, 6]),
        new("MaxPool2d ceil mode", x => MaxPool2d(x[0], 2, ceilMode: true), [1, 2, 3, 5]),
        new("MaxPool2d transposed", x => MaxPool2d(x[0], 2, stride: 1), GradcheckInput.Transposed(1, 2, 3, 4)),
        new("MaxPool2d unbatched strided", x => MaxPool2d(x[0], 2), GradcheckInput.Strided(2, 4, 4)),
    ];
}
