using Backprop.Diagnostics;

namespace Backprop.Ops;

/// <summary>
/// The element-wise losses of the absolute error d = x − y: L1 |d|, Huber and smooth L1 (quadratic near 0, linear
/// beyond a threshold). Fused so each is one node saving only d, instead of the sub, abs, compare, where and two
/// branches of the composite; the gradient is the clamped slope, which is also what makes it differentiable again
/// (d is saved with the graph of its subtraction, so the slope's own derivative reaches input and target).
/// </summary>
internal sealed class AbsoluteErrorLossOp : Node, IGradchecked
{
    public enum Kind
    {
        /// <summary>|d|; slope sign(d).</summary>
        L1,
        /// <summary>½d² for |d| &lt; δ, else δ(|d| − ½δ); slope clamp(d, −δ, δ).</summary>
        Huber,
        /// <summary>½d²/β for |d| &lt; β, else |d| − ½β; slope clamp(d/β, −1, 1).</summary>
        SmoothL1,
    }

    private readonly Kind _kind;
    private readonly double _threshold;

    private AbsoluteErrorLossOp(Tensor input, Tensor target, Tensor difference, Kind kind, double threshold) : base(input, target)
    {
        _kind = kind;
        _threshold = threshold;
        Save(difference);
    }

    /// <param name="threshold">δ for Huber, β for smooth L1; unused for L1.</param>
    public static Tensor Apply(Tensor input, Tensor target, Kind kind, double threshold)
    {
        Tensor loss;
        // Recorded when an operand requires grad: the first-order backward never visits that node (this op's edges go
        // straight to input and target), but a backward with createGraph differentiates the saved d through it.
        var difference = input - target;
        using (Autograd.NoGrad())
        {
            var abs = difference.Abs();
            loss = kind switch
            {
                Kind.L1 => abs,
                Kind.Huber => Tensor.Where(abs.Lt(threshold), difference.Square() * 0.5, (abs - 0.5 * threshold) * threshold),
                _ => Tensor.Where(abs.Lt(threshold), difference.Square() * (0.5 / threshold), abs - 0.5 * threshold),
            };
        }
        return Autograd.IsRecording(input, target)
            ? new AbsoluteErrorLossOp(input, target, difference, kind, threshold).Attach(loss)
            : loss;
    }

    protected internal override void Backward(Tensor g, Tensor?[] grads)
    {
        var d = Saved(0);
        var slope = _kind switch
        {
            Kind.L1 => d.Sign(),
            Kind.Huber => d.Clamp(-_threshold, _threshold),
            _ => (d / _threshold).Clamp(-1, 1),
        };
        var grad = g * slope;
        if (NeedsGrad(0)) grads[0] = grad;
        if (NeedsGrad(1)) grads[1] = -grad;
    }

    // The backward's slope times the change of the difference input − target.
    protected internal override Tensor? Jvp(Tensor[] x, Tensor?[] t, Tensor y)
    {
        var d = Saved(0);
        var slope = _kind switch
        {
            Kind.L1 => d.Sign(),
            Kind.Huber => d.Clamp(-_threshold, _threshold),
            _ => (d / _threshold).Clamp(-1, 1),
        };
        return slope * ForwardAD.Plus(t[0], t[1] is { } tt ? -tt : null)!;
    }

    public static IEnumerable<GradcheckCase> GradcheckCases =>
    [
        new("L1Loss", x => Nn.Functional.L1Loss(x[0], x[1]), [3, 4], [3, 4]),
        new("L1Loss none transposed", x => Nn.Functional.L1Loss(x[0], x[1], Nn.Reduction.None), GradcheckInput.Transposed(2, 3), [2, 3]),
        new("HuberLoss", x => Nn.Functional.HuberLoss(x[0], x[1]), [3, 5], [3, 5]),
        new("HuberLoss delta 0.5 sum strided", x => Nn.Functional.HuberLoss(x[0], x[1], Nn.Reduction.Sum, delta: 0.5),
            GradcheckInput.Strided(2, 3), [2, 3]),
        new("SmoothL1Loss beta 2 none", x => Nn.Functional.SmoothL1Loss(x[0], x[1], Nn.Reduction.None, beta: 2.0), [7], [7]),
    ];
}
