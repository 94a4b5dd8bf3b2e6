namespace Backprop.Optim;

/// <summary>Limits gradients before an optimizer step, against exploding gradients.</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales all gradients together so their joint p-norm is at most <paramref name="maxNorm"/> (by
    /// maxNorm / (norm + 1e−6), as PyTorch does; gradients already within the bound are left alone).
    /// </summary>
    /// <param name="normType">p &gt; 0, or <see cref="double.PositiveInfinity"/> for the largest absolute value.</param>
    /// <param name="errorIfNonfinite">Throw when the norm is NaN or infinite instead of scaling by it.</param>
    /// <returns>The total norm before clipping (0 when no parameter has a gradient).</returns>
    public static double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm, double normType = 2, bool errorIfNonfinite = false)
    {
        if (!(normType > 0)) throw new ArgumentOutOfRangeException(nameof(normType), $"ClipGradNorm: normType must be positive or infinity; got {normType}.");
        var grads = Gradients(parameters);
        if (grads.Count == 0) return 0;
        double total;
        using (Autograd.NoGrad())
        {
            if (double.IsPositiveInfinity(normType)) total = grads.Max(g => g.Abs().Max().Item());
            else
            {
                double sum = 0;
                foreach (var g in grads)
                    sum += normType switch
                    {
                        1 => g.Abs().Sum().Item(),
                        2 => g.Square().Sum().Item(),
                        _ => g.Abs().Pow(normType).Sum().Item(),
                    };
                total = normType == 2 ? Math.Sqrt(sum) : Math.Pow(sum, 1 / normType);
            }
            if (errorIfNonfinite && !double.IsFinite(total))
                throw new InvalidOperationException(
                    $"ClipGradNorm: the total {normType}-norm of the gradients is {total}, so they cannot be clipped. Pass errorIfNonfinite: false to scale anyway.");
            double coefficient = maxNorm / (total + 1e-6);
            if (coefficient < 1 || double.IsNaN(coefficient))
                foreach (var g in grads) g.MulInPlace(coefficient);
        }
        return total;
    }

    /// <summary>Clamps every gradient element to [−<paramref name="clipValue"/>, <paramref name="clipValue"/>].</summary>
    public static void ClipGradValue(IEnumerable<Tensor> parameters, double clipValue)
    {
        if (!(clipValue >= 0)) throw new ArgumentOutOfRangeException(nameof(clipValue), $"ClipGradValue: clipValue must be non-negative; got {clipValue}.");
        using (Autograd.NoGrad())
            foreach (var g in Gradients(parameters)) g.ClampInPlace(-clipValue, clipValue);
    }

    private static List<Tensor> Gradients(IEnumerable<Tensor> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var grads = new List<Tensor>();
        foreach (var p in parameters)
            if (p.Grad is { } g) grads.Add(g);
        return grads;
    }
}
