using System.Globalization;

namespace Backprop.Nn;

/// <summary>
/// Rotary position embedding (RoPE, Su et al. 2021): rotates each pair of features of a query or key by an angle
/// proportional to its position, so that q·k depends on positions only through their difference. Pairs are
/// (x[i], x[i + dim/2]) — the "rotate half" layout of GPT-NeoX and Hugging Face's LLaMA — with frequencies
/// θ^(−2i/dim). It has no parameters; apply it to queries and keys (per head) before attention.
/// </summary>
public sealed class RotaryEmbedding : Module
{
    private readonly double[] _inverseFrequencies;
    private readonly Lock _tablesLock = new();
    private (Tensor Cos, Tensor Sin, int Length, DType DType, Device Device)? _tables;

    /// <param name="dim">The feature size rotated (the head size); even.</param>
    /// <param name="theta">The base of the frequencies.</param>
    public RotaryEmbedding(int dim, double theta = 10000)
    {
        if (dim <= 0 || dim % 2 != 0) throw new ArgumentOutOfRangeException(nameof(dim), $"RotaryEmbedding: dim must be positive and even; got {dim}.");
        if (!(theta > 1)) throw new ArgumentOutOfRangeException(nameof(theta), $"RotaryEmbedding: theta must exceed 1; got {theta}.");
        Dim = dim;
        Theta = theta;
        _inverseFrequencies = new double[dim / 2];
        for (int i = 0; i < dim / 2; i++) _inverseFrequencies[i] = Math.Pow(theta, -2.0 * i / dim);
    }

    public int Dim { get; }

    public double Theta { get; }

    /// <summary>
    /// Rotates <paramref name="x"/> [..., L, dim], position t of the sequence by the angles of position
    /// <paramref name="positionOffset"/> + t (an offset for tokens appended to a cached prefix).
    /// </summary>
    public Tensor Apply(Tensor x, int positionOffset = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2 || x.Sizes[^1] != Dim)
            throw new ShapeMismatchException("RotaryEmbedding", $"input must be [..., L, {Dim}]; got {x.Shape}");
        ArgumentOutOfRangeException.ThrowIfNegative(positionOffset);
        int length = x.Sizes[^2];
        var (cos, sin) = Tables(positionOffset + length, x);
        cos = cos.Narrow(0, positionOffset, length);
        sin = sin.Narrow(0, positionOffset, length);
        int half = Dim / 2;
        var rotated = Tensor.Cat([-x.Narrow(-1, half, half), x.Narrow(-1, 0, half)], -1);
        return x * cos + rotated * sin;
    }

    /// <summary>cos and sin of every angle, [length, dim] (each frequency twice), kept for the longest length seen.</summary>
    private (Tensor Cos, Tensor Sin) Tables(int length, Tensor like)
    {
        lock (_tablesLock)
        {
            if (_tables is { } t && t.Length >= length && t.DType == like.DType && t.Device == like.Device) return (t.Cos, t.Sin);
            int rows = Math.Max(length, _tables?.Length ?? 0);
            var cos = new double[rows * Dim];
            var sin = new double[rows * Dim];
            int half = Dim / 2;
            for (int p = 0; p < rows; p++)
                for (int i = 0; i < half; i++)
                {
                    double angle = p * _inverseFrequencies[i];
                    cos[p * Dim + i] = cos[p * Dim + i + half] = Math.Cos(angle);
                    sin[p * Dim + i] = sin[p * Dim + i + half] = Math.Sin(angle);
                }
            var cosTable = Tensor.FromArray(cos, rows, Dim).To(like.Device, like.DType);
            var sinTable = Tensor.FromArray(sin, rows, Dim).To(like.Device, like.DType);
            _tables = (cosTable, sinTable, rows, like.DType, like.Device);
            return (cosTable, sinTable);
        }
    }

    protected override string ExtraDescription => string.Create(CultureInfo.InvariantCulture, $"dim: {Dim}, theta: {Theta}");
}
