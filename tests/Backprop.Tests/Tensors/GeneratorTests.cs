namespace Backprop.Tests.Tensors;

public class GeneratorTests
{
    private const int Threads = 8;
    private const int DrawsPerThread = 2500;

    [Fact]
    public void The_sequence_is_xoshiro256_starstar_seeded_by_splitmix64_with_or_without_a_lock()
    {
        // From an independent implementation of the published algorithms.
        ulong[] expected = [0x15780b2e0c2ec716, 0x6104d9866d113a7e, 0xae17533239e499a1];
        foreach (var threadSafe in new[] { false, true })
        {
            var g = new Generator(42, threadSafe);
            Assert.Equal(expected, new[] { g.NextUInt64(), g.NextUInt64(), g.NextUInt64() });
            var bounded = new Generator(7, threadSafe);
            Assert.Equal([7L, 2, 8, 9, 9, 8, 0, 1], Enumerable.Range(0, 8).Select(_ => bounded.NextInt64(10)));
        }
    }

    [Fact]
    public void Fills_give_the_values_of_as_many_single_draws()
    {
        var single = new Generator(3);
        var filled = new Generator(3);
        var expected = Enumerable.Range(0, 7).Select(_ => -1 + 3 * single.NextDouble())
            .Concat(Enumerable.Range(0, 5).Select(_ => 2 + 0.5 * single.NextNormal()))
            .Concat(Enumerable.Range(0, 6).Select(_ => (double)(10 + single.NextInt64(4)))).ToArray();
        var uniform = new double[7];
        var normal = new double[5];
        var ints = new long[6];
        filled.FillUniform(uniform, -1, 2);
        filled.FillNormal(normal, 2, 0.5);
        filled.FillInt64(ints, 10, 4);
        Assert.Equal(expected, uniform.Concat(normal).Concat(ints.Select(i => (double)i)));
        Assert.Equal(single.GetState(), filled.GetState());
    }

    [Fact]
    public void State_round_trips_between_thread_safe_and_plain_generators_with_a_pending_normal()
    {
        var shared = new Generator(11, threadSafe: true);
        shared.NextNormal(); // leaves the pair's second value pending
        var plain = new Generator();
        plain.SetState(shared.GetState());
        Assert.Equal(Enumerable.Range(0, 9).Select(_ => shared.NextNormal()), Enumerable.Range(0, 9).Select(_ => plain.NextNormal()));
    }

    [Fact]
    public void A_thread_safe_generator_drawn_from_by_many_threads_gives_exactly_the_values_of_sequential_draws()
    {
        var shared = new Generator(123, threadSafe: true);
        var reference = new Generator(123);
        var concurrent = DrawConcurrently(() => shared.NextUInt64());
        var sequential = Enumerable.Range(0, Threads * DrawsPerThread).Select(_ => reference.NextUInt64()).Order().ToArray();
        Assert.Equal(sequential, concurrent);
        Assert.Equal(reference.GetState(), shared.GetState());
    }

    [Fact]
    public void Concurrent_normal_draws_and_fills_keep_each_pair_whole()
    {
        var shared = new Generator(5, threadSafe: true);
        var reference = new Generator(5);
        // Odd-sized fills and single draws interleaved leave a pending second value between callers; none is lost or repeated.
        var concurrent = DrawConcurrently(() => shared.NextNormal(), () =>
        {
            var values = new double[3];
            shared.FillNormal(values);
            return values;
        });
        int total = concurrent.Length;
        var sequential = Enumerable.Range(0, total).Select(_ => reference.NextNormal()).Order().ToArray();
        Assert.Equal(sequential, concurrent);
    }

    /// <summary>
    /// Threads/2 threads call <paramref name="single"/> and the others <paramref name="batch"/> (or single again), all
    /// released at once; the values sorted.
    /// </summary>
    internal static T[] DrawConcurrently<T>(Func<T> single, Func<T[]>? batch = null)
    {
        var results = new List<T>[Threads];
        using var start = new Barrier(Threads);
        var threads = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var mine = new List<T>(DrawsPerThread * 3);
            start.SignalAndWait();
            for (int i = 0; i < DrawsPerThread; i++)
            {
                if (batch is not null && t % 2 == 1) mine.AddRange(batch());
                else mine.Add(single());
            }
            results[t] = mine;
        })).ToArray();
        foreach (var thread in threads) thread.Start();
        foreach (var thread in threads) thread.Join();
        return results.SelectMany(r => r).Order().ToArray();
    }
}

/// <summary>Tests that draw from or seed <see cref="Generator.Default"/>: they run alone, so no other test draws from it meanwhile.</summary>
[CollectionDefinition(nameof(DefaultGeneratorCollection), DisableParallelization = true)]
public sealed class DefaultGeneratorCollection;

[Collection(nameof(DefaultGeneratorCollection))]
public class DefaultGeneratorTests
{
    [Fact]
    public void The_default_generator_drawn_from_by_many_threads_gives_exactly_the_values_of_sequential_draws()
    {
        var saved = Generator.Default.GetState();
        try
        {
            Assert.True(Generator.Default.IsThreadSafe);
            var reference = new Generator();
            reference.SetState(saved);
            var concurrent = GeneratorTests.DrawConcurrently(() => Generator.Default.NextUInt64());
            var sequential = Enumerable.Range(0, concurrent.Length).Select(_ => reference.NextUInt64()).Order().ToArray();
            Assert.Equal(sequential, concurrent);
        }
        finally
        {
            Generator.Default.SetState(saved);
        }
    }

    [Fact]
    public void ManualSeed_makes_layers_and_factories_built_without_a_generator_repeat()
    {
        var saved = Generator.Default.GetState();
        try
        {
            Tensor.ManualSeed(5);
            var first = (new Backprop.Nn.Linear(4, 3).Weight.ToArray<float>(), Tensor.Randn([6]).ToArray<float>());
            Tensor.ManualSeed(5);
            var second = (new Backprop.Nn.Linear(4, 3).Weight.ToArray<float>(), Tensor.Randn([6]).ToArray<float>());
            Assert.Equal(first.Item1, second.Item1);
            Assert.Equal(first.Item2, second.Item2);
            var explicitGenerator = new Generator(5);
            Assert.Equal(new Backprop.Nn.Linear(4, 3, generator: explicitGenerator).Weight.ToArray<float>(), first.Item1);
        }
        finally
        {
            Generator.Default.SetState(saved);
        }
    }
}
