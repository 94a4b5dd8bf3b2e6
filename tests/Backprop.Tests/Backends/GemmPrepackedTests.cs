using System.Numerics;
using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>
/// A B packed once (what a recurrent layer does with W_hh) gives bit for bit the product of the ordinary path, which
/// packs the same panels on every call: every kernel (and the 8-row tile chosen for a batch of 32), both float types,
/// one thread and several, B row-major and transposed, several k blocks, overwrite and accumulate.
/// </summary>
public class GemmPrepackedTests
{
    [Theory]
    [MemberData(nameof(GemmTests.KernelCases), MemberType = typeof(GemmTests))]
    public void Prepacked_product_equals_the_ordinary_product(string isa, string type, int threads)
    {
        var settings = new GemmSettings(Enum.Parse<GemmIsa>(isa), threads, SmallPath: false, MinFlopsPerThread: 1);
        // Shapes where the ordinary path keeps A·B (no swap), as the recurrent steps' [32, 4H] and [32, H] products do.
        foreach (var (m, n, k) in new[] { (32, 1024, 256), (7, 130, 300), (13, 65, 9), (32, 256, 1024) })
            foreach (bool transposedB in new[] { false, true })
                foreach (bool accumulate in new[] { false, true })
                {
                    if (type == "float") Check<float>(m, n, k, transposedB, accumulate, settings);
                    else Check<double>(m, n, k, transposedB, accumulate, settings);
                }
    }

    private static void Check<T>(int m, int n, int k, bool transposedB, bool accumulate, GemmSettings settings)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new Random(m * 1000 + n + k);
        T[] Fill(int count) => Enumerable.Range(0, count).Select(_ => T.CreateChecked(random.NextDouble() * 2 - 1)).ToArray();
        T[] a = Fill(m * k), b = Fill(k * n), c0 = Fill(m * n);
        var bLayout = transposedB ? new MatrixLayout(1, k) : new MatrixLayout(n, 1);
        var layout = new MatrixLayout(k, 1);
        var cLayout = new MatrixLayout(n, 1);
        T[] expected = (T[])c0.Clone(), actual = (T[])c0.Clone();
        Gemm.Multiply(m, n, k, a, 0, layout, b, 0, bLayout, expected, 0, cLayout, accumulate, settings);
        // Told the rows of A, as a recurrent layer tells its batch: with AVX-512, m = 32 takes the 8-row tiles.
        var packed = Gemm.Prepack(k, n, b, 0, bLayout, typeof(T) == typeof(float) ? DType.Float32 : DType.Float64, settings, leftRows: m);
        if (packed.Isa == GemmIsa.Avx512 && m == 32) Assert.True(packed.Narrow);
        Array.Fill(b, T.NaN); // the packed copy must not read B again
        Gemm.Multiply(m, a, 0, layout, packed, actual, 0, cLayout, accumulate, settings);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i], $"{typeof(T).Name} m={m} n={n} k={k} transposedB={transposedB} accumulate={accumulate}: element {i} is {actual[i]}, the ordinary product gives {expected[i]}");
    }
}
