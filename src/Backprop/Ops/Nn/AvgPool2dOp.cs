using Backprop.Diagnostics;
using static Backprop.Nn.Functional;

namespace Backprop.Ops;

/// <summary>
/// 2-D average pooling. It is linear, and its backward is its adjoint, <see cref="AvgPool2dBackwardOp"/>, whose own
/// backward is this op again: a dedicated kernel pair, because spreading each gradient evenly over a window whose
/// divisor depends on the padding rule has no cheaper expression in other ops.
/// </summary>
internal sealed class AvgPool2dOp : Node, IGradchecked
{
    private readonly Window2d _window;
    private readonly bool _countIncludePad;
    private readonly int[] _inputSizes;

    private AvgPool2dOp(Tensor x, Window2d window, bool countIncludePad) : base(x)
    {
        _window = window;
        _countIncludePad = countIncludePad;
        _inputSizes = x.Sizes;
    }

    public static Tensor Apply(Tensor x, Window2d window, bool countIncludePad, int outHeight, int outWidth)
    {
        var y = Tensor.Empty([x.Sizes[0], x.Sizes[1], outHeight, outWidth], x.DType, x.Backend);
        x.Backend.AvgPool2d(x.Strided, y.Strided, window, countIncludePad);
        return Autograd.IsRecording(x) ? new AvgPool2dOp(x, window, countIncludePad).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = AvgPool2dBackwardOp.Apply(g, _window, _countIncludePad, _inputSizes);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _window, _countIncludePad, y.Sizes[2], y.Sizes[3]);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("AvgPool2d", x => AvgPool2d(x[0], 2), [2, 2, 4, 4]),
        new("AvgPool2d overlapping padding", x => AvgPool2d(x[0], 3, stride: 2, padding: 1), [1, 2, 5, 5]),
        new("AvgPool2d padding excluded", x => AvgPool2d(x[0], 3, stride: 2, padding: 1, countIncludePad: false), [1, 1, 5, 4]),
        new("AvgPool2d ceil mode", x => AvgPool2d(x[0], (2, 3), stride: 2, padding: (0, 1), ceilMode: true), [1, 2, 5, 6]),
        new("AvgPool2d ceil mode padding excluded", x => AvgPool2d(x[0], 2, ceilMode: true, countIncludePad: false), [1, 1, 3, 5]),
        new("AvgPool2d transposed", x => AvgPool2d(x[0], 2, stride: 1), GradcheckInput.Transposed(1, 2, 3, 4)),
        // AdaptiveAvgPool2d is this op when the sizes divide, and two pooling matrices otherwise.
        new("AdaptiveAvgPool2d divisible", x => AdaptiveAvgPool2d(x[0], (2, 1)), [2, 2, 4, 3]),
        new("AdaptiveAvgPool2d non-divisible", x => AdaptiveAvgPool2d(x[0], (3, 2)), [1, 2, 5, 7]),
        new("AdaptiveAvgPool2d upsampling strided", x => AdaptiveAvgPool2d(x[0], 3), GradcheckInput.Strided(1, 2, 2, 2)),
    ];
}
