using Backprop.Backends.Cpu;

namespace Backprop.Tests.Backends;

/// <summary>These change the process-wide thread count, so they run alone, after the parallel test collections.</summary>
[CollectionDefinition(nameof(CpuThreadCountCollection), DisableParallelization = true)]
public sealed class CpuThreadCountCollection;

/// <summary>Runs code with the CPU backend limited to a number of participants, restoring the count after.</summary>
internal static class CpuThreads
{
    public static T Run<T>(int threads, Func<T> run)
    {
        int saved = CpuParallel.ThreadCount;
        CpuParallel.ThreadCount = threads;
        try { return run(); }
        finally { CpuParallel.ThreadCount = saved; }
    }
}

[Collection(nameof(CpuThreadCountCollection))]
public class CpuParallelTests
{
    /// <summary>Counts visits per index and records which thread ran each range.</summary>
    private readonly struct CountingBody(int[] visits, int[] threadOfRange, int throwAt = -1) : IParallelBody
    {
        public void Execute(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                if (i == throwAt) throw new InvalidOperationException($"item {i}");
                Interlocked.Increment(ref visits[i]);
                threadOfRange[i] = Environment.CurrentManagedThreadId;
            }
        }
    }

    private static T WithThreadCount<T>(int threads, Func<T> action)
    {
        int saved = CpuParallel.ThreadCount;
        CpuParallel.ThreadCount = threads;
        try { return action(); }
        finally { CpuParallel.ThreadCount = saved; }
    }

    [Theory]
    [InlineData(0, 1, 4)]
    [InlineData(1, 1, 4)]
    [InlineData(2, 1, 4)]
    [InlineData(3, 1, 4)]
    [InlineData(7, 2, 4)]
    [InlineData(1000, 1, 3)]
    [InlineData(100_003, 1000, 5)]
    [InlineData(64, 100, 4)]
    public void Every_index_is_visited_exactly_once(int count, int grain, int threads)
    {
        var visits = new int[count];
        var owners = new int[count];
        WithThreadCount(threads, () =>
        {
            var body = new CountingBody(visits, owners);
            CpuParallel.For(count, ref body, grain);
            return 0;
        });
        Assert.All(visits, v => Assert.Equal(1, v));
    }

    [Fact]
    public void Large_work_is_split_into_one_contiguous_chunk_per_thread()
    {
        const int count = 40_000;
        var visits = new int[count];
        var owners = new int[count];
        WithThreadCount(4, () =>
        {
            var body = new CountingBody(visits, owners);
            CpuParallel.For(count, ref body);
            return 0;
        });
        // Four equal chunks (one per thread by default), each run whole by one thread: whichever claimed it.
        for (int part = 0; part < 4; part++)
        {
            var range = owners.AsSpan(part * 10_000, 10_000).ToArray();
            Assert.All(range, id => Assert.Equal(range[0], id));
        }
        Assert.All(visits, v => Assert.Equal(1, v));
    }

    [Theory]
    [InlineData(1000, 1, 3, 4)]    // 12 chunks
    [InlineData(1000, 100, 3, 4)]  // the grain caps it at 10 chunks
    [InlineData(5, 1, 2, 8)]       // more chunks asked for than items
    public void Several_chunks_per_thread_still_visit_each_index_once(int count, int grain, int threads, int chunksPerThread)
    {
        var visits = new int[count];
        WithThreadCount(threads, () =>
        {
            var body = new CountingBody(visits, new int[count]);
            CpuParallel.For(count, ref body, grain, chunksPerThread: chunksPerThread);
            return 0;
        });
        Assert.All(visits, v => Assert.Equal(1, v));
    }

    [Fact]
    public void Work_below_the_grain_and_a_thread_count_of_one_run_on_the_caller()
    {
        var visits = new int[500];
        var owners = new int[500];
        var body = new CountingBody(visits, owners);
        CpuParallel.For(500, ref body, grain: 300);
        WithThreadCount(1, () =>
        {
            CpuParallel.For(500, ref body);
            return 0;
        });
        Assert.All(visits, v => Assert.Equal(2, v));
        Assert.All(owners, id => Assert.Equal(Environment.CurrentManagedThreadId, id));
    }

    [Theory]
    [InlineData(10)]      // in the first chunk
    [InlineData(9_990)]   // in the last chunk
    public void An_exception_in_any_range_reaches_the_caller_and_the_pool_keeps_working(int throwAt)
    {
        WithThreadCount(3, () =>
        {
            var visits = new int[10_000];
            var body = new CountingBody(visits, new int[10_000], throwAt);
            var error = Assert.Throws<InvalidOperationException>(() => CpuParallel.For(10_000, ref body));
            Assert.Equal($"item {throwAt}", error.Message);

            var after = new int[10_000];
            var next = new CountingBody(after, new int[10_000]);
            CpuParallel.For(10_000, ref next);
            Assert.All(after, v => Assert.Equal(1, v));
            return 0;
        });
    }

    private readonly struct NestingBody(int[] visits) : IParallelBody
    {
        public void Execute(int start, int end)
        {
            for (int i = start; i < end; i++)
            {
                var inner = new CountingBody(visits, new int[visits.Length]);
                // Each outer item runs a whole inner loop over a slice of its own.
                var slice = new SliceBody(inner, i * 100);
                CpuParallel.For(100, ref slice);
            }
        }
    }

    private readonly struct SliceBody(CountingBody inner, int offset) : IParallelBody
    {
        public void Execute(int start, int end) => inner.Execute(offset + start, offset + end);
    }

    [Fact]
    public void Nested_loops_run_inline_and_visit_everything()
    {
        var visits = new int[50 * 100];
        WithThreadCount(3, () =>
        {
            var body = new NestingBody(visits);
            CpuParallel.For(50, ref body);
            return 0;
        });
        Assert.All(visits, v => Assert.Equal(1, v));
    }

    [Fact]
    public void Concurrent_callers_each_get_every_index_once()
    {
        WithThreadCount(3, () =>
        {
            const int callers = 4, rounds = 200, count = 3_000;
            var results = new int[callers][];
            var threads = Enumerable.Range(0, callers).Select(t => new Thread(() =>
            {
                var visits = new int[count];
                for (int r = 0; r < rounds; r++)
                {
                    var body = new CountingBody(visits, new int[count]);
                    CpuParallel.For(count, ref body);
                }
                results[t] = visits;
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            Assert.All(results, visits => Assert.All(visits, v => Assert.Equal(rounds, v)));
            return 0;
        });
    }

    [Fact]
    public void Thread_count_rejects_values_below_one_and_backend_setting_round_trips()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => CpuBackend.ThreadCount = 0);
        int saved = CpuBackend.ThreadCount;
        try
        {
            CpuBackend.ThreadCount = 3;
            Assert.Equal(3, CpuParallel.ThreadCount);
        }
        finally
        {
            CpuBackend.ThreadCount = saved;
        }
    }

    [Fact]
    public void Gemm_split_over_many_threads_matches_one_thread()
    {
        // The backend's own settings path: the global thread count caps the split.
        var random = new Random(9);
        var a = new GemmTestMatrix<float>(150, 97, Layout.ColumnMajor, random);
        var b = new GemmTestMatrix<float>(97, 301, Layout.RowMajor, random);
        var single = new GemmTestMatrix<float>(150, 301, Layout.RowMajor, new Random(1));
        var split = new GemmTestMatrix<float>(150, 301, Layout.RowMajor, new Random(1));
        Gemm.Multiply(150, 301, 97, a.Data, 0, a.MatrixLayout, b.Data, 0, b.MatrixLayout, single.Data, 0, single.MatrixLayout, true,
            GemmSettings.Default with { Threads = 1 });
        WithThreadCount(5, () =>
        {
            Gemm.Multiply(150, 301, 97, a.Data, 0, a.MatrixLayout, b.Data, 0, b.MatrixLayout, split.Data, 0, split.MatrixLayout, true,
                GemmSettings.Default with { Threads = 5, MinFlopsPerThread = 1 });
            return 0;
        });
        // Each element's k loop runs in the same order whichever thread owns its tile, so the results are identical.
        Assert.Equal(single.Data, split.Data);
    }

    [Theory]
    [InlineData(UnaryOp.Exp)]
    [InlineData(UnaryOp.Tanh)]
    public void Long_transcendental_runs_split_across_threads_match_the_scalar_function(UnaryOp op)
    {
        const int n = 50_001;
        var random = new Random(4);
        var input = Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        var output = new float[n];
        WithThreadCount(3, () =>
        {
            CpuBackend.Instance.Unary(op, StridedView.Contiguous(CpuBackend.Wrap(input), [n]), StridedView.Contiguous(CpuBackend.Wrap(output), [n]));
            return 0;
        });
        for (int i = 0; i < n; i++)
        {
            double expected = op == UnaryOp.Exp ? Math.Exp(input[i]) : Math.Tanh(input[i]);
            Assert.True(Math.Abs(output[i] - expected) <= 1e-6 * Math.Max(1, Math.Abs(expected)), $"{op}({input[i]}) at {i}: {output[i]} vs {expected}");
        }
    }
}
