using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// The adjoint of 2-D average pooling: each output gradient spread evenly over its window (the gradient of
/// <see cref="AvgPool2dOp"/>). Its own backward is average pooling, so gradients of gradients work.
/// </summary>
internal sealed class AvgPool2dBackwardOp : Node, IGradchecked
{
    private readonly Window2d _window;
    private readonly bool _countIncludePad;
    private readonly int _pooledHeight, _pooledWidth;

    private AvgPool2dBackwardOp(Tensor g, Window2d window, bool countIncludePad) : base(g)
    {
        _window = window;
        _countIncludePad = countIncludePad;
        (_pooledHeight, _pooledWidth) = (g.Sizes[2], g.Sizes[3]);
    }

    /// <param name="g">The pooled output's gradient [N, C, OH, OW].</param>
    /// <param name="inputSizes">The pooled input's shape [N, C, H, W].</param>
    public static Tensor Apply(Tensor g, Window2d window, bool countIncludePad, int[] inputSizes)
    {
        var gradInput = Tensor.Empty(inputSizes, g.DType, g.Backend);
        g.Backend.AvgPool2dBackward(g.Strided, gradInput.Strided, window, countIncludePad);
        return Autograd.IsRecording(g) ? new AvgPool2dBackwardOp(g, window, countIncludePad).Attach(gradInput) : gradInput;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) =>
        grads[0] = AvgPool2dOp.Apply(g, _window, _countIncludePad, _pooledHeight, _pooledWidth);

    private static readonly Window2d Overlapping = new(3, 2, 1, 1);

    // Linear in the incoming gradient.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, _window, _countIncludePad, y.Sizes);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("AvgPool2dBackward", x => Apply(x[0], new Window2d(2, 2, 0, 1), true, [1, 2, 4, 5]), [1, 2, 2, 2]),
        new("AvgPool2dBackward overlapping padding excluded", x => Apply(x[0], Overlapping, false, [2, 1, 5, 4]), [2, 1, 3, 2]),
        new("AvgPool2dBackward transposed", x => Apply(x[0], Overlapping, true, [1, 2, 5, 5]), GradcheckInput.Transposed(1, 2, 3, 3)),
    ];
}
