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
