using Backprop.Diagnostics;
using static Backprop.Nn.Functional;

namespace Backprop.Ops;

/// <summary>
/// 2-D convolution y = conv(x, W) + b. Its input gradient is the transposed convolution of the output gradient
/// with the same weight, its weight gradient the correlation of the input with the output gradient: both are ops
/// in their own right, so the backward is differentiable again and runs on any backend.
/// </summary>
internal sealed class Conv2dOp : Node, IGradchecked
{
    private readonly Window2d _window;
    private readonly int _groups;
    private readonly int _inputHeight, _inputWidth;

    private Conv2dOp(Tensor x, Tensor weight, Tensor? bias, Window2d window, int groups)
        : base(bias is null ? [x, weight] : [x, weight, bias])
    {
        _window = window;
        _groups = groups;
        _inputHeight = x.Sizes[2];
        _inputWidth = x.Sizes[3];
        Save(NeedsGrad(1) ? x : null, NeedsGrad(0) ? weight : null);
    }

    /// <summary>The caller has checked the shapes; <paramref name="outHeight"/> × <paramref name="outWidth"/> may be fewer positions than fit.</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, Window2d window, int groups, int outHeight, int outWidth)
    {
        var y = Tensor.Empty([x.Sizes[0], weight.Sizes[0], outHeight, outWidth], x.DType, x.Backend);
        x.Backend.Conv2d(x.Strided, weight.Strided, bias?.Strided, y.Strided, window, groups);
        bool record = bias is null ? Autograd.IsRecording(x, weight) : Autograd.IsRecording([x, weight, bias]);
        return record ? new Conv2dOp(x, weight, bias, window, groups).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        if (NeedsGrad(0)) grads[0] = ConvTranspose2dOp.Apply(g, Saved(1), null, _window, _groups, _inputHeight, _inputWidth);
        if (NeedsGrad(1)) grads[1] = Conv2dWeightGradOp.Apply(Saved(0), g, _window, _groups);
        if (InputCount > 2 && NeedsGrad(2)) grads[2] = g.Sum([0, 2, 3]);
    }

    // Bilinear in input and weight, plus the bias broadcast over batch and positions.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var viaInput = t[0] is { } tx ? Apply(tx, x[1], null, _window, _groups, y.Sizes[2], y.Sizes[3]) : null;
        var viaWeight = t[1] is { } tw ? Apply(x[0], tw, null, _window, _groups, y.Sizes[2], y.Sizes[3]) : null;
        var viaBias = x.Length > 2 && t[2] is { } tb ? tb.Reshape(1, -1, 1, 1).ExpandTo(y.Sizes) : null;
        return ForwardAD.Plus(ForwardAD.Plus(viaInput, viaWeight), viaBias);
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Conv2d", x => Conv2d(x[0], x[1], x[2]), [2, 2, 4, 5], [3, 2, 3, 3], [3]),
        new("Conv2d padding", x => Conv2d(x[0], x[1], x[2], padding: 1), [1, 2, 4, 4], [2, 2, 3, 3], [2]),
        new("Conv2d stride odd size", x => Conv2d(x[0], x[1], x[2], stride: 2, padding: 1), [1, 2, 5, 7], [2, 2, 3, 3], [2]),
        new("Conv2d non-square kernel and stride", x => Conv2d(x[0], x[1], stride: (2, 1), padding: (0, 1)), [1, 2, 5, 4], [2, 2, 2, 3]),
        new("Conv2d dilation", x => Conv2d(x[0], x[1], x[2], padding: 1, dilation: 2), [1, 1, 6, 5], [2, 1, 3, 2], [2]),
        new("Conv2d groups", x => Conv2d(x[0], x[1], x[2], groups: 2), [2, 4, 3, 3], [6, 2, 2, 2], [6]),
        new("Conv2d depthwise stride", x => Conv2d(x[0], x[1], stride: 2, padding: 1, groups: 3), [1, 3, 5, 5], [3, 1, 3, 3]),
        new("Conv2d 1x1", x => Conv2d(x[0], x[1], x[2]), [2, 3, 2, 3], [2, 3, 1, 1], [2]),
        new("Conv2d 1x1 strided", x => Conv2d(x[0], x[1], stride: 2), [1, 2, 5, 4], [3, 2, 1, 1]),
        new("Conv2d non-contiguous input and weight", x => Conv2d(x[0], x[1], x[2], padding: (1, 0)),
            GradcheckInput.Transposed(1, 2, 4, 5), GradcheckInput.Strided(2, 2, 2, 3), [2]),
        new("Conv2d unbatched", x => Conv2d(x[0], x[1], padding: 1), [2, 3, 3], [1, 2, 2, 2]),
        new("Conv1d", x => Conv1d(x[0], x[1], x[2], stride: 2, padding: 1), [2, 2, 7], [3, 2, 3], [3]),
        new("Conv1d dilation groups", x => Conv1d(x[0], x[1], dilation: 2, groups: 2), [1, 4, 7], [2, 2, 2]),
        new("Conv1d transposed input", x => Conv1d(x[0], x[1], padding: 2), GradcheckInput.Transposed(1, 2, 5), [2, 2, 3]),
    ];
}
