using Backprop.Diagnostics;
using static Backprop.Nn.Functional;

namespace Backprop.Ops;

/// <summary>
/// 2-D transposed convolution: the adjoint of <see cref="Conv2dOp"/> in its input. Its input gradient is therefore
/// a convolution of the output gradient with the same weight, and its weight gradient the correlation of the output
/// gradient (as the convolution's input) with its own input (as the convolution's output gradient).
/// </summary>
internal sealed class ConvTranspose2dOp : Node, IGradchecked
{
    private readonly Window2d _window;
    private readonly int _groups;
    private readonly int _inputHeight, _inputWidth;

    private ConvTranspose2dOp(Tensor x, Tensor weight, Tensor? bias, Window2d window, int groups)
        : base(bias is null ? [x, weight] : [x, weight, bias])
    {
        _window = window;
        _groups = groups;
        _inputHeight = x.Sizes[2];
        _inputWidth = x.Sizes[3];
        Save(NeedsGrad(1) ? x : null, NeedsGrad(0) ? weight : null);
    }

    /// <summary>The caller has checked the shapes and chosen the output size (which fixes the output padding).</summary>
    public static Tensor Apply(Tensor x, Tensor weight, Tensor? bias, Window2d window, int groups, int outHeight, int outWidth)
    {
        var y = Tensor.Empty([x.Sizes[0], weight.Sizes[1] * groups, outHeight, outWidth], x.DType, x.Backend);
        x.Backend.ConvTranspose2d(x.Strided, weight.Strided, bias?.Strided, y.Strided, window, groups);
        bool record = bias is null ? Autograd.IsRecording(x, weight) : Autograd.IsRecording([x, weight, bias]);
        return record ? new ConvTranspose2dOp(x, weight, bias, window, groups).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        if (NeedsGrad(0)) grads[0] = Conv2dOp.Apply(g, Saved(1), null, _window, _groups, _inputHeight, _inputWidth);
        if (NeedsGrad(1)) grads[1] = Conv2dWeightGradOp.Apply(g, Saved(0), _window, _groups);
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
        new("ConvTranspose2d", x => ConvTranspose2d(x[0], x[1], x[2]), [2, 2, 3, 3], [2, 3, 2, 2], [3]),
        new("ConvTranspose2d stride padding", x => ConvTranspose2d(x[0], x[1], x[2], stride: 2, padding: 1), [1, 2, 3, 4], [2, 2, 3, 3], [2]),
        new("ConvTranspose2d output padding", x => ConvTranspose2d(x[0], x[1], stride: (2, 3), padding: (1, 0), outputPadding: (1, 2)),
            [1, 2, 3, 2], [2, 1, 3, 2]),
        new("ConvTranspose2d dilation output padding", x => ConvTranspose2d(x[0], x[1], outputPadding: 1, dilation: 2), [1, 1, 3, 3], [1, 2, 2, 2]),
        new("ConvTranspose2d groups", x => ConvTranspose2d(x[0], x[1], x[2], stride: 2, groups: 2), [1, 4, 2, 3], [4, 1, 2, 2], [2]),
        new("ConvTranspose2d non-contiguous", x => ConvTranspose2d(x[0], x[1], padding: 1),
            GradcheckInput.Transposed(1, 2, 3, 4), GradcheckInput.Strided(2, 2, 3, 3)),
    ];
}
