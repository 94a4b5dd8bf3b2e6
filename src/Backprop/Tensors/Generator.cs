using System.Buffers.Binary;

namespace Backprop;

/// <summary>
/// A seedable random number generator (xoshiro256**, seeded through SplitMix64), the same on every platform and
/// .NET version, with a state that can be saved and restored so a resumed training run repeats bit for bit.
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    public Generator(ulong seed = 0) => Seed(seed);

    /// <summary>The generator factories and layers use when none is given. Reseed it with <see cref="Seed"/> for repeatable runs.</summary>
    public static Generator Default { get; } = new(0);

    /// <summary>Restarts the sequence from <paramref name="seed"/>.</summary>
    public void Seed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
        _spareNormal = null;
    }

    private static ulong SplitMix64(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform integer in [0, <paramref name="bound"/>), without modulo bias.</summary>
    public long NextInt64(long bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), "The bound must be positive.");
        ulong b = (ulong)bound;
        ulong threshold = (0UL - b) % b;
        while (true)
        {
            ulong r = NextUInt64();
            ulong high = Math.BigMul(r, b, out ulong low);
            if (low >= threshold) return (long)high;
        }
    }

    /// <summary>A standard normal sample (Box–Muller; the second value of each pair is kept for the next call).</summary>
    public double NextNormal()
    {
        if (_spareNormal is { } spare)
        {
            _spareNormal = null;
            return spare;
        }
        double u1;
        do u1 = NextDouble(); while (u1 <= double.Epsilon);
        double u2 = NextDouble();
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        double angle = 2.0 * Math.PI * u2;
        _spareNormal = radius * Math.Sin(angle);
        return radius * Math.Cos(angle);
    }

    /// <summary>Shuffles in place (Fisher–Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)NextInt64(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A permutation of 0..n−1.</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Shuffle<int>(p);
        return p;
    }

    /// <summary>The full state (41 bytes), for checkpoints.</summary>
    public byte[] GetState()
    {
        var state = new byte[41];
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(0), _s0);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(8), _s1);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(16), _s2);
        BinaryPrimitives.WriteUInt64LittleEndian(state.AsSpan(24), _s3);
        state[32] = _spareNormal.HasValue ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteDoubleLittleEndian(state.AsSpan(33), _spareNormal ?? 0);
        return state;
    }

    public void SetState(ReadOnlySpan<byte> state)
    {
        if (state.Length != 41) throw new ArgumentException($"A generator state is 41 bytes; got {state.Length}.");
        _s0 = BinaryPrimitives.ReadUInt64LittleEndian(state);
        _s1 = BinaryPrimitives.ReadUInt64LittleEndian(state[8..]);
        _s2 = BinaryPrimitives.ReadUInt64LittleEndian(state[16..]);
        _s3 = BinaryPrimitives.ReadUInt64LittleEndian(state[24..]);
        _spareNormal = state[32] == 1 ? BinaryPrimitives.ReadDoubleLittleEndian(state[33..]) : null;
    }
}
