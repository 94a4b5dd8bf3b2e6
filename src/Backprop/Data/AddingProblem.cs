namespace Backprop.Data;

/// <summary>
/// The adding problem of Hochreiter and Schmidhuber (1997), a test of long-range memory, in the form used since Le et al.
/// (2015) and Arjovsky et al. (2016): each sample is a sequence of <c>length</c> steps with two features, a value drawn
/// uniformly from [0, 1) and a marker that is 1 at exactly two steps (one in the first half, one in the second) and 0
/// elsewhere; the target is the sum of the two marked values. A model must carry the first marked value across up to
/// <c>length</c> steps. Always answering the mean, 1, scores <see cref="MeanBaselineMse"/>.
/// </summary>
public static class AddingProblem
{
    /// <summary>The mean squared error of predicting the mean target, 1: the variance of a sum of two uniforms, 2/12.</summary>
    public const double MeanBaselineMse = 1.0 / 6;

    /// <summary>
    /// <paramref name="count"/> samples: features Float32 [count, length, 2] (batch-first: feature 0 the value, feature 1
    /// the marker) and targets Float32 [count, 1]. The same arguments give the same data.
    /// </summary>
    public static TensorDataset Create(int count, int length = 100, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(length), $"AddingProblem: a sequence needs at least 2 steps to hold two markers; got {length}.");
        var generator = new Generator(seed);
        var features = new float[(long)count * length * 2];
        var targets = new float[count];
        int half = length / 2;
        for (int n = 0; n < count; n++)
        {
            var sample = features.AsSpan(n * length * 2, length * 2);
            for (int t = 0; t < length; t++) sample[2 * t] = generator.NextSingle();
            int first = (int)generator.NextInt64(half);
            int second = half + (int)generator.NextInt64(length - half);
            sample[2 * first + 1] = 1;
            sample[2 * second + 1] = 1;
            targets[n] = sample[2 * first] + sample[2 * second];
        }
        return new TensorDataset(new Tensor(Tensor.AdoptHostArray(features), [count, length, 2]), new Tensor(Tensor.AdoptHostArray(targets), [count, 1]));
    }
}
