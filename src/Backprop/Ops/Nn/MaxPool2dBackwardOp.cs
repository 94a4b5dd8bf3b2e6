using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// The gradient of 2-D max pooling (max-unpooling): each pooled gradient is added at the input position its
/// maximum came from, into a zero-filled [N, C, H, W]. Its own backward gathers from those positions, so gradients
/// of gradients work. A dedicated kernel rather than zeros + scatter-add: routing by saved index is the whole op,
/// and the generic scatter would first copy the zeros.
/// </summary>
internal sealed class MaxPool2dBackwardOp : Node, IGradchecked
{
    private readonly int[] _pooledSizes;

    private MaxPool2dBackwardOp(Tensor g, Tensor indices) : base(g)
    {
        _pooledSizes = g.Sizes;
        Save(indices);
    }

    /// <param name="g">The pooled output's gradient [N, C, OH, OW].</param>
    /// <param name="indices">Int64 [N, C, OH, OW]: each maximum's flat position h·W + w in its input plane.</param>
    /// <param name="inputSizes">The pooled input's shape [N, C, H, W].</param>
    public static Tensor Apply(Tensor g, Tensor indices, int[] inputSizes)
    {
        var gradInput = Tensor.Empty(inputSizes, g.DType, g.Backend);
        g.Backend.MaxPool2dBackward(g.Strided, indices.Strided, gradInput.Strided);
        return Autograd.IsRecording(g) ? new MaxPool2dBackwardOp(g, indices).Attach(gradInput) : gradInput;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        int n = _pooledSizes[0], c = _pooledSizes[1];
        grads[0] = g.Reshape(n, c, -1).Gather(2, Saved(0).Reshape(n, c, -1)).Reshape(_pooledSizes);
    }

    // Positions in a 3×3 plane, with one position picked twice (overlapping windows).
    private static readonly Tensor Picks = Tensor.FromArray(new long[] { 4, 4, 2, 7, 0, 8, 3, 5 }, 2, 1, 2, 2);

    // Linear in the incoming gradient.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y) => Apply(t[0]!, Saved(0), y.Sizes);

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("MaxPool2dBackward", x => Apply(x[0], Picks, [2, 1, 3, 3]), [2, 1, 2, 2]),
        new("MaxPool2dBackward transposed", x => Apply(x[0], Picks, [2, 1, 3, 3]), GradcheckInput.Transposed(2, 1, 2, 2)),
    ];
}
