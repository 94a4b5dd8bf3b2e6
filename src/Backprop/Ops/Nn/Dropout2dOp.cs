using Backprop.Diagnostics;
using static Backprop.Nn.Functional;

namespace Backprop.Ops;

/// <summary>
/// Channel dropout: x times a per-channel mask that is 0 or 1/(1 − p), broadcast over each channel's plane.
/// Its own node (rather than a plain product) so graphs name it, and the mask is saved once per channel, not per element.
/// </summary>
internal sealed class Dropout2dOp : Node, IGradchecked
{
    private Dropout2dOp(Tensor x, Tensor mask) : base(x) => Save(mask);

    /// <param name="mask">x's leading dims with 1 for each of the last two: [N, C, 1, 1] or [C, 1, 1].</param>
    public static Tensor Apply(Tensor x, Tensor mask)
    {
        var y = Kernels.Binary(BinaryOp.Mul, x, mask.ExpandTo(x.Sizes));
        return Autograd.IsRecording(x) ? new Dropout2dOp(x, mask).Attach(y) : y;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads) => grads[0] = g * Saved(0);

    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => t[0]! * Saved(0);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        // A fresh generator with a fixed seed per call: every finite-difference pass sees the same mask.
        new("Dropout2d", x => Dropout2d(x[0], 0.4, generator: new Generator(11)), [3, 4, 2, 2]),
        new("Dropout2d unbatched transposed", x => Dropout2d(x[0], 0.5, generator: new Generator(5)), GradcheckInput.Transposed(4, 2, 3)),
    ];
}
