
namespace Backprop.Data;

/// <summary>
/// Small seeded 2-D classification sets for demos and tests: features Float32 [N, 2], labels Int64 [N], classes as
/// balanced as N allows, rows in random order. The same arguments give the same data.
/// </summary>
public static class SyntheticData
{
    /// <summary>The XOR truth table: (0,0)→0, (0,1)→1, (1,0)→1, (1,1)→0, in that order.</summary>
    public static TensorDataset Xor() => new(
        Tensor.FromArray(new float[] { 0, 0, 0, 1, 1, 0, 1, 1 }, 4, 2),
        Tensor.FromArray(new long[] { 0, 1, 1, 0 }));

    /// <summary><paramref name="count"/> points scattered around the XOR corners with Gaussian noise of std <paramref name="noise"/>.</summary>
    public static TensorDataset Xor(int count, double noise = 0.1, ulong seed = 0) =>
        Build(count, classes: 2, noise, seed, (label, i, _) => label == 0
            ? (i % 2 == 0 ? (0.0, 0.0) : (1.0, 1.0))
            : (i % 2 == 0 ? (0.0, 1.0) : (1.0, 0.0)));

    /// <summary>Two interleaving half circles (scikit-learn's make_moons): the upper one is class 0, the lower class 1.</summary>
    public static TensorDataset TwoMoons(int count, double noise = 0.1, ulong seed = 0) =>
        Build(count, classes: 2, noise, seed, (label, i, n) =>
        {
            double angle = Math.PI * (n > 1 ? i / (double)(n - 1) : 0);
            return label == 0
                ? (Math.Cos(angle), Math.Sin(angle))
                : (1 - Math.Cos(angle), 0.5 - Math.Sin(angle));
        });

    /// <summary>
    /// <paramref name="arms"/> spiral arms from the centre outwards, one class per arm: radius grows to 1 while the angle
    /// turns 4 radians, arms offset by 2π/arms.
    /// </summary>
    public static TensorDataset Spirals(int count, int arms = 3, double noise = 0.05, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(arms, 2);
        return Build(count, arms, noise, seed, (label, i, n) =>
        {
            double radius = (i + 1) / (double)n;
            double angle = 2 * Math.PI * label / arms + 4 * radius;
            return (radius * Math.Sin(angle), radius * Math.Cos(angle));
        });
    }

    /// <summary>Two concentric circles: the outer (radius 1) is class 0, the inner (radius <paramref name="factor"/>) class 1.</summary>
    public static TensorDataset Circles(int count, double noise = 0.05, double factor = 0.5, ulong seed = 0)
    {
        if (!(factor > 0 && factor < 1)) throw new ArgumentOutOfRangeException(nameof(factor), "Circles: the inner radius must be in (0, 1).");
        return Build(count, classes: 2, noise, seed, (label, i, n) =>
        {
            double angle = 2 * Math.PI * i / n;
            double radius = label == 0 ? 1 : factor;
            return (radius * Math.Cos(angle), radius * Math.Sin(angle));
        });
    }

    /// <summary>
    /// Class c gets ⌊count/classes⌋ points (one more for the first count mod classes classes); point i of n in class c
    /// sits at <paramref name="point"/>(c, i, n) plus Gaussian noise; then the rows are shuffled.
    /// </summary>
    private static TensorDataset Build(int count, int classes, double noise, ulong seed, Func<int, int, int, (double X, double Y)> point)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegative(noise);
        var generator = new Generator(seed);
        var xs = new float[2 * count];
        var labels = new long[count];
        int row = 0;
        for (int c = 0; c < classes; c++)
        {
            int n = count / classes + (c < count % classes ? 1 : 0);
            for (int i = 0; i < n; i++, row++)
            {
                var (x, y) = point(c, i, n);
                xs[2 * row] = (float)(x + noise * generator.NextNormal());
                xs[2 * row + 1] = (float)(y + noise * generator.NextNormal());
                labels[row] = c;
            }
        }
        var order = generator.Permutation(count);
        var shuffledXs = new float[xs.Length];
        var shuffledLabels = new long[count];
        for (int r = 0; r < count; r++)
        {
            shuffledXs[2 * r] = xs[2 * order[r]];
            shuffledXs[2 * r + 1] = xs[2 * order[r] + 1];
            shuffledLabels[r] = labels[order[r]];
        }
        return new TensorDataset(new Tensor(Tensor.AdoptHostArray(shuffledXs), [count, 2]), new Tensor(Tensor.AdoptHostArray(shuffledLabels), [count]));
    }
}
