using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// The weight gradient of a convolution, dW = corr(x, g): for each output channel and kernel tap, the sum over the
/// batch and output positions of the output gradient times the input it multiplied. It is bilinear in x and g, so
/// its own backward is a transposed convolution (for x) and a convolution (for g) with the incoming gradient as weight.
/// </summary>
internal sealed class Conv2dWeightGradOp : Node, IGradchecked
{
    private readonly Window2d _window;
    private readonly int _groups;
    private readonly int _inputHeight, _inputWidth, _outputHeight, _outputWidth;

    private Conv2dWeightGradOp(Tensor x, Tensor g, Window2d window, int groups) : base(x, g)
    {
        _window = window;
        _groups = groups;
        (_inputHeight, _inputWidth) = (x.Sizes[2], x.Sizes[3]);
        (_outputHeight, _outputWidth) = (g.Sizes[2], g.Sizes[3]);
        Save(NeedsGrad(1) ? x : null, NeedsGrad(0) ? g : null);
    }

    /// <param name="x">The convolution's input [N, C, H, W].</param>
    /// <param name="g">The gradient of its output [N, O, OH, OW].</param>
    /// <returns>[O, C/groups, kh, kw]</returns>
    public static Tensor Apply(Tensor x, Tensor g, Window2d window, int groups)
    {
        var dw = Tensor.Empty([g.Sizes[1], x.Sizes[1] / groups, window.Kernel.Height, window.Kernel.Width], x.DType, x.Backend);
        x.Backend.Conv2dWeightGrad(x.Strided, g.Strided, dw.Strided, window, groups);
        return Autograd.IsRecording(x, g) ? new Conv2dWeightGradOp(x, g, window, groups).Attach(dw) : dw;
    }

    // ⟨G, corr(x, g)⟩ = ⟨convᵀ(g; G), x⟩ = ⟨conv(x; G), g⟩.
    protected internal override void Backward(Tensor gradWeight, Tensor?[] grads)
    {
        if (NeedsGrad(0)) grads[0] = ConvTranspose2dOp.Apply(Saved(1), gradWeight, null, _window, _groups, _inputHeight, _inputWidth);
        if (NeedsGrad(1)) grads[1] = Conv2dOp.Apply(Saved(0), gradWeight, null, _window, _groups, _outputHeight, _outputWidth);
    }

    private static readonly Window2d Strided = new(new Size2d(2, 3), new Size2d(2, 1), new Size2d(1, 1), new Size2d(1, 2));

    // Bilinear in the input and the incoming gradient.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => ForwardAD.Plus(t[0] is { } tx ? Apply(tx, x[1], _window, _groups) : null, t[1] is { } tg ? Apply(x[0], tg, _window, _groups) : null);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Conv2dWeightGrad", x => Apply(x[0], x[1], new Window2d(2, 1, 0, 1), 1), [2, 2, 3, 3], [2, 3, 2, 2]),
        new("Conv2dWeightGrad stride padding dilation groups", x => Apply(x[0], x[1], Strided, 2), [1, 2, 4, 5], [1, 4, 3, 3]),
        new("Conv2dWeightGrad non-contiguous", x => Apply(x[0], x[1], new Window2d(2, 1, 1, 1), 1),
            GradcheckInput.Transposed(1, 2, 3, 2), GradcheckInput.Strided(1, 2, 4, 3)),
        new("Conv2d double backward", x =>
        {
            // Gradcheck's finite differences run under NoGrad; the inner gradient needs its graph either way.
            using var grad = Autograd.EnableGrad();
            var y = Nn.Functional.Conv2d(x[0], x[1], padding: 1);
            var gradWeight = Autograd.Grad([y], [x[1]], [x[2]], createGraph: true)[0]!;
            return gradWeight;
        }, [1, 2, 3, 3], [2, 2, 2, 2], [1, 2, 4, 4]),
    ];
}
