using Backprop.Ops;

namespace Backprop;

public partial class Tensor
{
    /// <summary>max(x, 0). Its gradient is 1 where x &gt; 0 and 0 elsewhere (ReLU′(0) = 0 by convention).</summary>
    public Tensor Relu() => ReluOp.Apply(this);

    /// <summary>1 / (1 + e^−x).</summary>
    public Tensor Sigmoid() => SigmoidOp.Apply(this);

    public Tensor Tanh() => TanhOp.Apply(this);

    /// <summary>x where x &gt; 0, else <paramref name="negativeSlope"/>·x.</summary>
    public Tensor LeakyRelu(double negativeSlope = 0.01) => LeakyReluOp.Apply(this, negativeSlope);

    /// <summary>x where x &gt; 0, else α(eˣ − 1).</summary>
    public Tensor Elu(double alpha = 1.0) => EluOp.Apply(this, alpha);

    /// <summary>The exact GELU, x·Φ(x), with Φ the standard normal CDF.</summary>
    public Tensor Gelu() => GeluOp.Apply(this);

    /// <summary>(1/β)·log(1 + e^(βx)), computed without overflow.</summary>
    public Tensor Softplus(double beta = 1.0) => beta == 1.0 ? SoftplusOp.Apply(this) : SoftplusOp.Apply(this * beta) / beta;

    /// <summary>x·σ(x) (also called swish).</summary>
    public Tensor Silu() => this * Sigmoid();

    /// <summary>e^x / Σ e^x along <paramref name="dim"/>, computed stably.</summary>
    public Tensor Softmax(int dim) => SoftmaxOp.Apply(Autocast.ToFloat32(this), Shape.NormalizeDim(dim, Math.Max(Rank, 1)));

    /// <summary>x − log Σ eˣ along <paramref name="dim"/>, computed stably (never the log of a softmax).</summary>
    public Tensor LogSoftmax(int dim) => LogSoftmaxOp.Apply(Autocast.ToFloat32(this), Shape.NormalizeDim(dim, Math.Max(Rank, 1)));
}
