
namespace Backprop.Diagnostics;

/// <summary>
/// Summary of one gradient (or of several, combined): sums from which the norm, mean and standard deviation follow,
/// and counts of exactly-zero and non-finite elements.
/// </summary>
public readonly record struct GradientStatistics(long Count, double Sum, double SumOfSquares, long Zeros, long NonFinite)
{
    /// <summary>The L2 norm, √Σg².</summary>
    public double Norm => Math.Sqrt(SumOfSquares);

    public double Mean => Count == 0 ? 0 : Sum / Count;

    /// <summary>The population standard deviation of the elements.</summary>
    public double Std => Count == 0 ? 0 : Math.Sqrt(Math.Max(0, SumOfSquares / Count - Mean * Mean));

    /// <summary>The fraction of elements that are exactly zero (units that passed no gradient).</summary>
    public double ZeroFraction => Count == 0 ? 0 : (double)Zeros / Count;

    /// <summary>Both summaries as one, as if their elements were a single tensor.</summary>
    public GradientStatistics Combine(GradientStatistics other) =>
        new(Count + other.Count, Sum + other.Sum, SumOfSquares + other.SumOfSquares, Zeros + other.Zeros, NonFinite + other.NonFinite);

    /// <summary>Reads a tensor in one pass (on the CPU straight from its storage when it is contiguous).</summary>
    public static GradientStatistics Of(Tensor t)
    {
        if (t.IsContiguous && t.TryGetHostArray<float>(out var f)) return Of<float>(f.AsSpan(t.Offset, t.NumElements));
        if (t.IsContiguous && t.TryGetHostArray<double>(out var d)) return Of<double>(d.AsSpan(t.Offset, t.NumElements));
        return Of<double>(t.ToArray<double>());
    }

    private static GradientStatistics Of<T>(ReadOnlySpan<T> values) where T : unmanaged, IFloatingPointIeee754<T>
    {
        double sum = 0, squares = 0;
        long zeros = 0, nonFinite = 0;
        foreach (var value in values)
        {
            double v = double.CreateTruncating(value);
            if (v == 0) zeros++;
            else if (!double.IsFinite(v)) nonFinite++;
            sum += v;
            squares += v * v;
        }
        return new GradientStatistics(values.Length, sum, squares, zeros, nonFinite);
    }
}
