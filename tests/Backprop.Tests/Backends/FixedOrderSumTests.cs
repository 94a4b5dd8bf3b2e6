using System.Numerics;
using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>The vectorised paths of the fixed-order sum must give the bits of adding one value at a time.</summary>
public class FixedOrderSumTests
{
    [Theory]
    [InlineData(0, 10_000)] // crosses two 4096-element blocks
    [InlineData(3, 37)]     // starts mid lane group: scalar until aligned, then whole groups, then a tail
    [InlineData(5, 4_100)]
    public void AddProducts_matches_adding_each_rounded_product(int lead, int length)
    {
        Check<float>(lead, length);
        Check<double>(lead, length);
    }

    [Fact]
    public void Fold_adds_the_lanes_in_halving_pairs()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            double[] lanes = [.. Enumerable.Range(0, FixedOrderSum.LaneCount).Select(_ => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-8, 9)))];
            var expected = (double[])lanes.Clone();
            for (int half = FixedOrderSum.LaneCount / 2; half >= 1; half /= 2)
                for (int i = 0; i < half; i++) expected[i] += expected[i + half];
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected[0]), BitConverter.DoubleToInt64Bits(FixedOrderSum.Fold(lanes)));
        }
    }

    private static void Check<T>(int lead, int length) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(7);
        // Magnitudes spread over many binades, so that the order of the additions shows in the result.
        T[] Draw() => [.. Enumerable.Range(0, length).Select(_ => T.CreateTruncating((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-6, 7))))];
        T[] x = Draw(), y = Draw();

        var vectorised = new FixedOrderSum();
        var scalar = new FixedOrderSum();
        for (int i = 0; i < lead; i++)
        {
            vectorised.Add(1.0 / (i + 3));
            scalar.Add(1.0 / (i + 3));
        }
        vectorised.AddProducts<T>(x, y);
        for (int i = 0; i < length; i++) scalar.Add(double.CreateTruncating(x[i] * y[i]));
        Assert.Equal(BitConverter.DoubleToInt64Bits(scalar.Total), BitConverter.DoubleToInt64Bits(vectorised.Total));
    }
}
