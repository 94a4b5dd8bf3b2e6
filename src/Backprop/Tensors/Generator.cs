using System.Buffers.Binary;

namespace Backprop;

/// <summary>
/// A seedable random number generator (xoshiro256**, seeded through SplitMix64), the same on every platform and
/// .NET version, with a state that can be saved and restored so a resumed training run repeats bit for bit.
/// </summary>
/// <remarks>
/// A generator made with <c>threadSafe: false</c> (the default) is for one thread at a time and costs a null check
/// per draw over the bare algorithm. <see cref="Default"/>, shared by every factory and layer given no generator, is
/// thread-safe: each call (a draw, a whole shuffle, a whole tensor's fill, a seed, a state read) holds a lock, so
/// concurrent callers get disjoint parts of the one sequence. Draws from one thread alone give the same values either way.
/// </remarks>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;
    private double? _spareNormal;

    // Set for generators shared between threads; held for the whole of each public call.
    private readonly Lock? _lock;

    /// <param name="seed">Where the sequence starts (see <see cref="Seed"/>).</param>
    /// <param name="threadSafe">
    /// Serialise calls from several threads with a lock (uncontended, some nanoseconds a call), as <see cref="Default"/>
    /// does; leave false for a generator used by one thread at a time.
    /// </param>
    public Generator(ulong seed = 0, bool threadSafe = false)
    {
        _lock = threadSafe ? new Lock() : null;
        SeedCore(seed);
    }

    /// <summary>
    /// The generator factories and layers use when none is given; thread-safe. Reseed it with <see cref="Seed"/> (or
    /// <see cref="Tensor.ManualSeed"/>) for repeatable runs; code that must not depend on what else draws from it in the
    /// meantime (other threads, tests running in parallel) should pass a generator of its own.
    /// </summary>
    public static Generator Default { get; } = new(0, threadSafe: true);

    /// <summary>Whether calls from several threads at once are safe (a lock serialises them).</summary>
    public bool IsThreadSafe => _lock is not null;

    /// <summary>Restarts the sequence from <paramref name="seed"/>.</summary>
    public void Seed(ulong seed)
    {
        if (_lock is null)
        {
            SeedCore(seed);
            return;
        }
        lock (_lock) SeedCore(seed);
    }

    private void SeedCore(ulong seed)
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
        if (_lock is null) return Step();
        lock (_lock) return Step();
    }

    private ulong Step()
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
    public double NextDouble() => ToUnit(NextUInt64());

    private static double ToUnit(ulong bits) => (bits >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextSingle() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform integer in [0, <paramref name="bound"/>), without modulo bias.</summary>
    public long NextInt64(long bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), "The bound must be positive.");
        if (_lock is null) return Int64Core((ulong)bound);
        lock (_lock) return Int64Core((ulong)bound);
    }

    private long Int64Core(ulong bound)
    {
        ulong threshold = (0UL - bound) % bound;
        while (true)
        {
            ulong high = Math.BigMul(Step(), bound, out ulong low);
            if (low >= threshold) return (long)high;
        }
    }

    /// <summary>A standard normal sample (Box–Muller; the second value of each pair is kept for the next call).</summary>
    public double NextNormal()
    {
        if (_lock is null) return NormalCore();
        lock (_lock) return NormalCore();
    }

    private double NormalCore()
    {
        if (_spareNormal is { } spare)
        {
            _spareNormal = null;
            return spare;
        }
        double u1;
        do u1 = ToUnit(Step()); while (u1 <= double.Epsilon);
        double u2 = ToUnit(Step());
        double radius = Math.Sqrt(-2.0 * Math.Log(u1));
        double angle = 2.0 * Math.PI * u2;
        _spareNormal = radius * Math.Sin(angle);
        return radius * Math.Cos(angle);
    }

    /// <summary>
    /// Fills <paramref name="values"/> with <c>low + (high − low)·u</c>, u uniform in [0, 1): the values of as many
    /// <see cref="NextDouble"/> calls, drawn under one lock (a tensor's fill is one contiguous part of the sequence).
    /// </summary>
    public void FillUniform(Span<double> values, double low = 0, double high = 1)
    {
        if (_lock is null)
        {
            FillUniformCore(values, low, high);
            return;
        }
        lock (_lock) FillUniformCore(values, low, high);
    }

    private void FillUniformCore(Span<double> values, double low, double high)
    {
        for (int i = 0; i < values.Length; i++) values[i] = low + (high - low) * ToUnit(Step());
    }

    /// <summary>Fills <paramref name="values"/> with <c>mean + std·z</c> for as many <see cref="NextNormal"/> draws z, under one lock.</summary>
    public void FillNormal(Span<double> values, double mean = 0, double std = 1)
    {
        if (_lock is null)
        {
            FillNormalCore(values, mean, std);
            return;
        }
        lock (_lock) FillNormalCore(values, mean, std);
    }

    private void FillNormalCore(Span<double> values, double mean, double std)
    {
        for (int i = 0; i < values.Length; i++) values[i] = mean + std * NormalCore();
    }

    /// <summary>Fills <paramref name="values"/> with <c>low + k</c> for as many <see cref="NextInt64"/>(<paramref name="count"/>) draws k, under one lock.</summary>
    public void FillInt64(Span<long> values, long low, long count)
    {
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), "The count must be positive.");
        if (_lock is null)
        {
            FillInt64Core(values, low, (ulong)count);
            return;
        }
        lock (_lock) FillInt64Core(values, low, (ulong)count);
    }

    private void FillInt64Core(Span<long> values, long low, ulong count)
    {
        for (int i = 0; i < values.Length; i++) values[i] = low + Int64Core(count);
    }

    /// <summary>Shuffles in place (Fisher–Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        if (_lock is null)
        {
            ShuffleCore(items);
            return;
        }
        lock (_lock) ShuffleCore(items);
    }

    private void ShuffleCore<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = (int)Int64Core((ulong)(i + 1));
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
        if (_lock is null) return StateCore();
        lock (_lock) return StateCore();
    }

    private byte[] StateCore()
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
        if (_lock is null)
        {
            SetStateCore(state);
            return;
        }
        lock (_lock) SetStateCore(state);
    }

    private void SetStateCore(ReadOnlySpan<byte> state)
    {
        _s0 = BinaryPrimitives.ReadUInt64LittleEndian(state);
        _s1 = BinaryPrimitives.ReadUInt64LittleEndian(state[8..]);
        _s2 = BinaryPrimitives.ReadUInt64LittleEndian(state[16..]);
        _s3 = BinaryPrimitives.ReadUInt64LittleEndian(state[24..]);
        _spareNormal = state[32] == 1 ? BinaryPrimitives.ReadDoubleLittleEndian(state[33..]) : null;
    }
}
