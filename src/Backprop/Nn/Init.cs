namespace Backprop.Nn;

/// <summary>
/// Weight initialisers, as in <c>torch.nn.init</c>: each fills a tensor in place (without recording a graph) and
/// returns it. Random ones draw from the generator given, or <see cref="Generator.Default"/> when none is.
/// </summary>
public static class Init
{
    /// <summary>The factor a nonlinearity scales the standard deviation by, which initialisers undo.</summary>
    /// <param name="parameter">The negative slope for <see cref="Nonlinearity.LeakyRelu"/> (0.01 when null).</param>
    public static double CalculateGain(Nonlinearity nonlinearity, double? parameter = null) => nonlinearity switch
    {
        Nonlinearity.Linear or Nonlinearity.Conv or Nonlinearity.Sigmoid => 1,
        Nonlinearity.Tanh => 5.0 / 3,
        Nonlinearity.Relu => Math.Sqrt(2.0),
        Nonlinearity.LeakyRelu => Math.Sqrt(2.0 / (1 + Math.Pow(parameter ?? 0.01, 2))),
        Nonlinearity.Selu => 3.0 / 4,
        _ => throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, null),
    };

    /// <summary>
    /// Inputs and outputs per unit of a weight of shape [out, in, k…]: in·Πk and out·Πk (the receptive field
    /// counts for convolutions).
    /// </summary>
    public static (int FanIn, int FanOut) CalculateFans(Tensor tensor)
    {
        if (tensor.Rank < 2)
            throw new ArgumentException($"Init: fan in and fan out need a tensor of at least 2 dims; got shape {tensor.Shape}.");
        int receptive = 1;
        for (int d = 2; d < tensor.Rank; d++) receptive *= tensor.Size(d);
        return (tensor.Size(1) * receptive, tensor.Size(0) * receptive);
    }

    /// <summary>U(low, high).</summary>
    public static Tensor Uniform(Tensor tensor, double low = 0, double high = 1, Generator? generator = null) =>
        Fill(tensor, Tensor.Uniform(tensor.Shape, low, high, tensor.DType, generator, tensor.Device));

    /// <summary>N(mean, std²).</summary>
    public static Tensor Normal(Tensor tensor, double mean = 0, double std = 1, Generator? generator = null) =>
        Fill(tensor, Tensor.Normal(tensor.Shape, mean, std, tensor.DType, generator, tensor.Device));

    public static Tensor Constant(Tensor tensor, double value)
    {
        using (Autograd.NoGrad()) tensor.FillInPlace(value);
        return tensor;
    }

    public static Tensor Zeros(Tensor tensor) => Constant(tensor, 0);

    public static Tensor Ones(Tensor tensor) => Constant(tensor, 1);

    /// <summary>Glorot: U(−a, a) with a = gain·√(6 / (fanIn + fanOut)).</summary>
    public static Tensor XavierUniform(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFans(tensor);
        double bound = gain * Math.Sqrt(6.0 / (fanIn + fanOut));
        return Uniform(tensor, -bound, bound, generator);
    }

    /// <summary>Glorot: N(0, σ²) with σ = gain·√(2 / (fanIn + fanOut)).</summary>
    public static Tensor XavierNormal(Tensor tensor, double gain = 1, Generator? generator = null)
    {
        var (fanIn, fanOut) = CalculateFans(tensor);
        return Normal(tensor, 0, gain * Math.Sqrt(2.0 / (fanIn + fanOut)), generator);
    }

    /// <summary>He: U(−b, b) with b = gain·√(3 / fan), gain from <paramref name="nonlinearity"/> and <paramref name="a"/>.</summary>
    /// <param name="a">The negative slope of the leaky ReLU that follows (0 for ReLU).</param>
    public static Tensor KaimingUniform(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null)
    {
        double bound = Math.Sqrt(3.0) * KaimingStd(tensor, a, mode, nonlinearity);
        return Uniform(tensor, -bound, bound, generator);
    }

    /// <summary>He: N(0, σ²) with σ = gain / √fan.</summary>
    public static Tensor KaimingNormal(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null) =>
        Normal(tensor, 0, KaimingStd(tensor, a, mode, nonlinearity), generator);

    private static double KaimingStd(Tensor tensor, double a, FanMode mode, Nonlinearity nonlinearity)
    {
        var (fanIn, fanOut) = CalculateFans(tensor);
        int fan = mode == FanMode.FanIn ? fanIn : fanOut;
        return CalculateGain(nonlinearity, a) / Math.Sqrt(fan);
    }

    private static Tensor Fill(Tensor tensor, Tensor values)
    {
        using (Autograd.NoGrad()) tensor.CopyFrom(values);
        return tensor;
    }
}
