using Backprop.Ops;

namespace Backprop.Nn;

public static partial class Functional
{
    /// <summary>
    /// Batch normalisation of <paramref name="input"/> [N, C] or [N, C, d…] per channel C, then
    /// y = x̂·weight + bias when given. In <paramref name="training"/> mode x̂ uses the batch's mean and biased
    /// variance, and the running statistics (if given) are updated in place, without recording a graph:
    /// running = (1 − momentum)·running + momentum·batch, with the unbiased variance. Otherwise x̂ uses the running
    /// statistics, which must be given.
    /// </summary>
    /// <param name="runningMean">[C], updated in place in training mode; null to keep no statistics.</param>
    /// <param name="runningVar">[C], updated in place in training mode; null to keep no statistics.</param>
    /// <param name="weight">[C] scale (γ), or null.</param>
    /// <param name="bias">[C] shift (β), or null.</param>
    public static Tensor BatchNorm(Tensor input, Tensor? runningMean, Tensor? runningVar, Tensor? weight = null, Tensor? bias = null,
        bool training = false, double momentum = 0.1, double eps = 1e-5)
    {
        const string op = "BatchNorm";
        input = Autocast.ToFloat32(input);
        if (input.Rank < 2) throw new ShapeMismatchException(op, $"input must be [N, C] or [N, C, d…]; got {input.Shape}");
        int channels = input.Sizes[1];
        foreach (var (name, t) in new[] { ("runningMean", runningMean), ("runningVar", runningVar), ("weight", weight), ("bias", bias) })
            if (t is not null && (t.Rank != 1 || t.Sizes[0] != channels))
                throw new ShapeMismatchException(op, $"{name} must be [{channels}] for input {input.Shape}; got {t.Shape}");
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException($"{op}: give both runningMean and runningVar, or neither.");
        var channelShape = ChannelShape(input.Rank, channels);
        Tensor normalized;
        if (training)
        {
            int count = input.NumElements / Math.Max(1, channels);
            if (count < 2)
                throw new ShapeMismatchException(op, $"training needs more than one value per channel to estimate a variance; input {input.Shape} has {count}");
            var reduced = new bool[input.Rank];
            for (int d = 0; d < input.Rank; d++) reduced[d] = d != 1;
            (normalized, var mean, var variance) = NormalizeOp.Apply(input, reduced, eps);
            if (runningMean is not null && runningVar is not null)
            {
                using (Autograd.NoGrad())
                {
                    runningMean.MulInPlace(1 - momentum).AddInPlace(mean.Reshape(channels), alpha: momentum);
                    runningVar.MulInPlace(1 - momentum).AddInPlace(variance.Reshape(channels) * ((double)count / (count - 1)), alpha: momentum);
                }
            }
        }
        else
        {
            if (runningMean is null || runningVar is null)
                throw new ArgumentException($"{op}: evaluation mode normalises with the running statistics; pass runningMean and runningVar, or training: true.");
            var inverseStd = (runningVar.Detach() + eps).Pow(-0.5).To(input.DType);
            normalized = (input - runningMean.Detach().To(input.DType).Reshape(channelShape)) * inverseStd.Reshape(channelShape);
        }
        return Affine(normalized, weight?.Reshape(channelShape), bias?.Reshape(channelShape));
    }

    /// <summary>
    /// Layer normalisation: each sample is standardised over its trailing dims <paramref name="normalizedShape"/>
    /// (mean 0, biased variance 1), then scaled and shifted element-wise by <paramref name="weight"/> and
    /// <paramref name="bias"/> of that shape when given.
    /// </summary>
    public static Tensor LayerNorm(Tensor input, int[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        const string op = "LayerNorm";
        input = Autocast.ToFloat32(input);
        int k = normalizedShape.Length;
        if (k == 0 || k > input.Rank || !input.Sizes.AsSpan(input.Rank - k).SequenceEqual(normalizedShape))
            throw new ShapeMismatchException(op, $"normalizedShape {Shape.Format(normalizedShape)} must be the trailing dims of the input {input.Shape}");
        foreach (var (name, t) in new[] { ("weight", weight), ("bias", bias) })
            if (t is not null && !t.Sizes.AsSpan().SequenceEqual(normalizedShape))
                throw new ShapeMismatchException(op, $"{name} must have the normalized shape {Shape.Format(normalizedShape)}; got {t.Shape}");
        var reduced = new bool[input.Rank];
        for (int d = input.Rank - k; d < input.Rank; d++) reduced[d] = true;
        var (normalized, _, _) = NormalizeOp.Apply(input, reduced, eps);
        return Affine(normalized, weight, bias);
    }

    /// <summary>
    /// Group normalisation of <paramref name="input"/> [N, C, d…]: the channels are split into
    /// <paramref name="groups"/> groups and each sample's group is standardised over its channels and positions, then
    /// scaled and shifted per channel by <paramref name="weight"/> and <paramref name="bias"/> [C] when given.
    /// </summary>
    public static Tensor GroupNorm(Tensor input, int groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        const string op = "GroupNorm";
        input = Autocast.ToFloat32(input);
        if (input.Rank < 2) throw new ShapeMismatchException(op, $"input must be [N, C, d…]; got {input.Shape}");
        int n = input.Sizes[0], channels = input.Sizes[1];
        if (groups < 1 || channels % groups != 0)
            throw new ShapeMismatchException(op, $"{channels} channels cannot be split into {groups} equal groups");
        foreach (var (name, t) in new[] { ("weight", weight), ("bias", bias) })
            if (t is not null && (t.Rank != 1 || t.Sizes[0] != channels))
                throw new ShapeMismatchException(op, $"{name} must be [{channels}]; got {t.Shape}");
        var (normalized, _, _) = NormalizeOp.Apply(input.Reshape(n, groups, -1), [false, false, true], eps);
        var channelShape = ChannelShape(input.Rank, channels);
        return Affine(normalized.Reshape(input.Sizes), weight?.Reshape(channelShape), bias?.Reshape(channelShape));
    }

    /// <summary>[1, C, 1, …] of the given rank: a per-channel vector that broadcasts over [N, C, d…].</summary>
    private static int[] ChannelShape(int rank, int channels)
    {
        var shape = new int[rank];
        Array.Fill(shape, 1);
        shape[1] = channels;
        return shape;
    }

    private static Tensor Affine(Tensor normalized, Tensor? weight, Tensor? bias)
    {
        var y = weight is null ? normalized : normalized * weight;
        return bias is null ? y : y + bias;
    }
}
