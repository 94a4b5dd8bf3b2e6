using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// The lower median of all elements (torch.median without a dim): the element at rank ⌊(n − 1)/2⌋ in ascending
/// order, NaN when any element is NaN, NaN for an empty tensor.
/// </summary>
internal sealed class MedianOp : Node, IGradchecked
{
    private readonly double _median;

    private MedianOp(Tensor x, double median) : base(x)
    {
        _median = median;
        Save(x);
    }

    public static Tensor Apply(Tensor x)
    {
        Tensor y;
        using (Autograd.NoGrad())
        {
            var flat = x.Reshape(-1);
            if (flat.NumElements == 0)
            {
                if (x.DType == DType.Int64)
                    throw new InvalidOperationException($"Median: an empty int64 tensor (shape {x.Shape}) has no median, and NaN is not an int64.");
                y = Tensor.Full(Shape.Wrap([]), double.NaN, x.DType, x.Device);
            }
            else
            {
                var index = Tensor.Empty([1], DType.Int64, x.Backend);
                x.Backend.RankIndex(flat.Strided, 0, (flat.NumElements - 1) / 2, propagateNaN: true, index.Strided);
                y = flat.Gather(0, index).Reshape();
            }
        }
        return Autograd.IsRecording(x) ? new MedianOp(x, y.Item<double>()).Attach(y) : y;
    }

    // As PyTorch's evenly_distribute_backward: the elements equal to the median share the gradient (all the NaN
    // elements when the median is NaN); the rest get exact zeros.
    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var x = Saved(0);
        var hits = double.IsNaN(_median) ? x.IsNaN() : x.Eq(_median);
        var count = hits.To(g.DType).Sum();
        grads[0] = Tensor.Where(hits, (g / count).ExpandTo(x.Sizes), 0.0);
    }

    // The mean tangent of the elements equal to the median, which share its gradient.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var input = x[0];
        var hits = double.IsNaN(_median) ? input.IsNaN() : input.Eq(_median);
        return Tensor.Where(hits, t[0]!, 0.0).Sum() / hits.To(input.DType).Sum();
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("Median of all, odd count", x => x[0].Median(), [3, 5]),
        new("Median of all, even count (lower)", x => x[0].Median() * x[0].Sum(), GradcheckInput.Transposed(2, 3)),
        new("Median of all strided", x => x[0].Median(), GradcheckInput.Strided(2, 2)),
    ];
}
