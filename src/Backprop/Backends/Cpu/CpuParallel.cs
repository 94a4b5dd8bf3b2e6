using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Backprop.Backends.Cpu;

/// <summary>The work of one chunk of a <see cref="CpuParallel.For{TBody}"/>: items [start, end).</summary>
internal interface IParallelBody
{
    void Execute(int start, int end);
}

/// <summary>
/// A parallel-for for CPU kernels: persistent workers (one per core besides the caller, which works too), the
/// items cut into a fixed set of contiguous chunks, and nothing allocated per call.
/// </summary>
/// <remarks>
/// The body is a struct on the caller's stack; workers reach it through a pointer and a function pointer to a
/// generic trampoline, so no delegate or box is made. That is safe because the caller does not return (not even
/// on an exception) before every chunk is done. The chunks are fixed by the call (count, participants, chunks
/// per participant), so a kernel's result never depends on timing; which thread runs a chunk does: each
/// participant claims the next chunk from a counter tagged with the job's id. On a shared machine a worker may
/// not be scheduled for milliseconds, and with one chunk per thread the caller would sit idle waiting for it;
/// with a few chunks per thread whoever is running takes the rest. One job runs at a time: a call made while
/// another is in flight (from a second thread, or nested inside a body) runs inline on its own thread, which keeps
/// the result right and never deadlocks. Idle workers spin briefly, then sleep on a monitor, so back-to-back
/// kernels (a training step) find them awake while an idle process costs no CPU.
/// </remarks>
internal static unsafe class CpuParallel
{
    private static int s_threadCount = Environment.ProcessorCount;
    private static int s_busy;
    private static int s_pending;
    private static Exception? s_exception;
    private static Worker[] s_workers = [];
    private static readonly Lock s_growLock = new();

    // The job in flight; written by the caller before it publishes s_claim, read by workers after.
    private static delegate*<void*, int, int, void> s_invoke;
    private static void* s_body;
    private static int s_count;
    private static int s_chunks;
    private static int s_job;

    /// <summary>The job's id in the high 32 bits, the next unclaimed chunk in the low 32.</summary>
    private static long s_claim;

    [ThreadStatic] private static bool t_inBody;

    /// <summary>How long an idle worker spins before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

    /// <summary>
    /// An idle worker gives up its core at every this many spins: the runtime compiles hot methods again on a
    /// background thread, and on two cores a worker that only spins leaves that thread fighting the caller for one.
    /// The MNIST recipe's first epoch took 300 ms instead of 330–370 ms; steady step times did not change.
    /// </summary>
    private const int YieldEvery = 4;

    /// <summary>Participants in a parallel loop (workers + the caller); at least 1. Default: the processor count.</summary>
    public static int ThreadCount
    {
        get => Volatile.Read(ref s_threadCount);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            Volatile.Write(ref s_threadCount, value);
        }
    }

    /// <summary>
    /// Runs <paramref name="body"/> over [0, <paramref name="count"/>) in contiguous chunks of at least
    /// <paramref name="grain"/> items: <paramref name="chunksPerThread"/> chunks for each of at most
    /// <paramref name="maxThreads"/> (and <see cref="ThreadCount"/>) participants. Work too small to split runs
    /// inline. Exceptions thrown by any chunk propagate to the caller (the first one, if several throw).
    /// </summary>
    public static void For<TBody>(int count, ref TBody body, int grain = 1, int maxThreads = int.MaxValue, int chunksPerThread = 1)
        where TBody : struct, IParallelBody
    {
        if (count <= 0) return;
        int most = count / Math.Max(grain, 1);
        int threads = Math.Min(Math.Min(ThreadCount, maxThreads), most);
        if (threads <= 1 || t_inBody || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            body.Execute(0, count);
            return;
        }
        try
        {
            var workers = EnsureWorkers(threads - 1);
            int chunks = (int)Math.Min((long)threads * Math.Max(chunksPerThread, 1), most);
            int job = s_job == int.MaxValue ? 1 : s_job + 1;
            s_job = job;
            s_invoke = &Invoke<TBody>;
            s_body = Unsafe.AsPointer(ref body);
            s_count = count;
            s_chunks = chunks;
            s_exception = null;
            Volatile.Write(ref s_pending, chunks);
            Volatile.Write(ref s_claim, (long)job << 32);
            for (int w = 0; w < threads - 1; w++) workers[w].Signal();

            RunChunks(job);
            var spinner = new SpinWait();
            while (Volatile.Read(ref s_pending) != 0) spinner.SpinOnce(sleep1Threshold: -1);
            s_body = null;
            if (s_exception is { } error)
            {
                s_exception = null;
                ExceptionDispatchInfo.Throw(error);
            }
        }
        finally
        {
            Volatile.Write(ref s_busy, 0);
        }
    }

    /// <summary>Claims and runs chunks of job <paramref name="job"/> until none is left (or a later job has begun).</summary>
    private static void RunChunks(int job)
    {
        while (true)
        {
            long claim = Volatile.Read(ref s_claim);
            if ((int)(claim >> 32) != job) return;
            // Read after the claim word: if the exchange below succeeds, the claim word did not move in between,
            // so the job is still in flight and these are its fields.
            int chunk = (int)claim, count = s_count, chunks = s_chunks;
            if (chunk >= chunks) return;
            if (Interlocked.CompareExchange(ref s_claim, claim + 1, claim) != claim) continue;
            RunRange(chunk, count, chunks);
            Interlocked.Decrement(ref s_pending);
        }
    }

    /// <summary>The first item of chunk <paramref name="chunk"/> of <paramref name="chunks"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RangeStart(int chunk, int count, int chunks) => (int)((long)count * chunk / chunks);

    private static void Invoke<TBody>(void* body, int start, int end) where TBody : struct, IParallelBody =>
        Unsafe.AsRef<TBody>(body).Execute(start, end);

    /// <summary>Runs one chunk of the job in flight; an exception is kept for the caller to rethrow.</summary>
    private static void RunRange(int chunk, int count, int chunks)
    {
        t_inBody = true;
        try
        {
            s_invoke(s_body, RangeStart(chunk, count, chunks), RangeStart(chunk + 1, count, chunks));
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref s_exception, e, null);
        }
        finally
        {
            t_inBody = false;
        }
    }

    private static Worker[] EnsureWorkers(int needed)
    {
        var workers = s_workers;
        if (workers.Length >= needed) return workers;
        lock (s_growLock)
        {
            workers = s_workers;
            if (workers.Length >= needed) return workers;
            var grown = new Worker[needed];
            workers.CopyTo(grown, 0);
            for (int i = workers.Length; i < needed; i++) grown[i] = new Worker(i + 1);
            s_workers = grown;
            return grown;
        }
    }

    private sealed class Worker
    {
        private readonly object _gate = new();
        private int _signalled;
        private int _sleeping;

        public Worker(int index)
        {
            var thread = new Thread(Loop, maxStackSize: 1 << 20) { IsBackground = true, Name = $"Backprop CPU worker {index}" };
            thread.Start();
        }

        public void Signal()
        {
            // Interlocked orders the signal before the read of _sleeping; the worker does the mirror image,
            // so either it sees the signal or the caller sees it asleep and wakes it.
            Interlocked.Exchange(ref _signalled, 1);
            if (Volatile.Read(ref _sleeping) != 0)
                lock (_gate) Monitor.Pulse(_gate);
        }

        private void Loop()
        {
            while (true)
            {
                WaitForSignal();
                // A full fence, so the claim word is read after the reset and a signal for the next job is not lost.
                Interlocked.Exchange(ref _signalled, 0);
                RunChunks((int)(Volatile.Read(ref s_claim) >> 32));
            }
        }

        private void WaitForSignal()
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            for (int spins = 0; Volatile.Read(ref _signalled) == 0; spins++)
            {
                if (spins % YieldEvery == YieldEvery - 1) Thread.Yield();
                else Thread.SpinWait(20);
                if (Stopwatch.GetTimestamp() < deadline) continue;
                lock (_gate)
                {
                    Interlocked.Exchange(ref _sleeping, 1);
                    while (Volatile.Read(ref _signalled) == 0) Monitor.Wait(_gate);
                    Volatile.Write(ref _sleeping, 0);
                }
            }
        }
    }
}
