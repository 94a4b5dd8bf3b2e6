namespace Backprop;

public partial class Tensor
{
    /// <summary>
    /// Draws <paramref name="numSamples"/> category indices from each row of this 1-D or 2-D tensor of non-negative
    /// weights (torch.multinomial; the weights need not sum to 1). Without <paramref name="replacement"/> a drawn
    /// category is removed for the row's later draws, so there must be at least numSamples nonzero weights. Int64,
    /// shape [..., numSamples]. Draws come from <paramref name="generator"/> (<see cref="Generator.Default"/> when
    /// null), one uniform number per draw in row-major order, so a seed repeats them exactly.
    /// </summary>
    public Tensor Multinomial(int numSamples, bool replacement = false, Generator? generator = null)
    {
        if (Rank is not (1 or 2))
            throw new ShapeMismatchException("Multinomial", $"needs a 1-D or 2-D tensor of weights; got {Shape}");
        if (numSamples <= 0) throw new ArgumentException($"Multinomial: numSamples must be positive; got {numSamples}.");
        int categories = Sizes[^1], rows = Rank == 2 ? Sizes[0] : 1;
        if (!replacement && numSamples > categories)
            throw new ArgumentException($"Multinomial: cannot draw {numSamples} samples without replacement from {categories} categories.");
        generator ??= Generator.Default;
        var weights = ToArray<double>();
        var samples = new long[rows * numSamples];
        var row = new double[categories];
        for (int r = 0; r < rows; r++)
        {
            Array.Copy(weights, r * categories, row, 0, categories);
            int nonzero = 0;
            foreach (var w in row)
            {
                if (!double.IsFinite(w) || w < 0)
                    throw new ArgumentException($"Multinomial: weights must be finite and non-negative; row {r} has {w}.");
                if (w > 0) nonzero++;
            }
            if (nonzero == 0) throw new ArgumentException($"Multinomial: row {r} of the weights sums to 0.");
            if (!replacement && nonzero < numSamples)
                throw new ArgumentException($"Multinomial: row {r} has {nonzero} nonzero weights, too few for {numSamples} samples without replacement.");
            for (int s = 0; s < numSamples; s++)
            {
                int drawn = Draw(row, generator.NextDouble());
                samples[r * numSamples + s] = drawn;
                if (!replacement) row[drawn] = 0;
            }
        }
        int[] shape = Rank == 2 ? [rows, numSamples] : [numSamples];
        return FromArray(samples, shape).To(Device);
    }

    /// <summary>The category whose share of the cumulative weight contains <paramref name="u"/> ∈ [0, 1); never a zero-weight one.</summary>
    private static int Draw(double[] weights, double u)
    {
        double total = 0;
        foreach (var w in weights) total += w;
        double target = u * total, cumulative = 0;
        int last = -1;
        for (int c = 0; c < weights.Length; c++)
        {
            if (weights[c] <= 0) continue;
            cumulative += weights[c];
            last = c;
            if (target < cumulative) return c;
        }
        // Rounding can leave target at or past the summed weights: the last possible category takes it.
        return last;
    }

    /// <summary>
    /// 1 with the probability each element of this tensor gives, else 0 (torch.bernoulli), in this tensor's shape and
    /// float dtype; one uniform draw per element in row-major order from <paramref name="generator"/>
    /// (<see cref="Generator.Default"/> when null). Probabilities must lie in [0, 1]. Not differentiable.
    /// </summary>
    public Tensor Bernoulli(Generator? generator = null)
    {
        if (!DType.IsFloatingPoint())
            throw new ArgumentException($"Bernoulli: the probabilities must be a floating-point tensor; got {DType.DisplayName()}.");
        var probabilities = ToArray<double>();
        foreach (var p in probabilities)
            if (!(p >= 0 && p <= 1)) throw new ArgumentException($"Bernoulli: probabilities must lie in [0, 1]; found {p}.");
        return FromHost(Draws(probabilities, p => p, generator ?? Generator.Default), Sizes, DType, Device);
    }

    /// <summary>1 with probability <paramref name="p"/>, else 0, in this tensor's shape and dtype (torch.Tensor.bernoulli(p)).</summary>
    public Tensor Bernoulli(double p, Generator? generator = null)
    {
        if (!(p >= 0 && p <= 1)) throw new ArgumentException($"Bernoulli: p must lie in [0, 1]; got {p}.");
        var outcomes = Draws(new double[NumElements], _ => p, generator ?? Generator.Default);
        return DType == DType.Int64 ? FromArray(Array.ConvertAll(outcomes, v => (long)v), Sizes).To(Device) : FromHost(outcomes, Sizes, DType, Device);
    }

    private static double[] Draws(double[] source, Func<double, double> probability, Generator generator)
    {
        // The uniforms in one call (the values of one NextDouble each, in order): a thread-safe generator locks once.
        var outcomes = new double[source.Length];
        generator.FillUniform(outcomes);
        for (int i = 0; i < source.Length; i++) outcomes[i] = outcomes[i] < probability(source[i]) ? 1 : 0;
        return outcomes;
    }
}
