using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;

namespace Backprop.Backends.Cpu;

/// <summary>The work of one participant in a <see cref="CpuParallel.For{TBody}"/>: items [start, end).</summary>
internal interface IParallelBody
{
    void Execute(int start, int end);
}

/// <summary>
/// A parallel-for for CPU kernels: persistent workers (one per core besides the caller, which takes a share too),
/// static partitioning into one contiguous range per participant, and nothing allocated per call.
/// </summary>
/// <remarks>
/// The body is a struct on the caller's stack; workers reach it through a pointer and a function pointer to a
/// generic trampoline, so no delegate or box is made. That is safe because the caller does not return (not even
/// on an exception) before every worker has finished with it. A worker runs its range only after claiming it, and
/// the caller claims and runs whatever its workers have not started, so a late worker costs time, never progress.
/// One job runs at a time: a call made while another
/// is in flight (from a second thread, or nested inside a body) runs inline on its own thread, which keeps the
/// result right and never deadlocks. Idle workers spin briefly, then sleep on a monitor, so back-to-back kernels
/// (a training step) find them awake while an idle process costs no CPU.
/// </remarks>
internal static unsafe class CpuParallel
{
    private static int s_threadCount = Environment.ProcessorCount;
    private static int s_busy;
    private static int s_pending;
    private static Exception? s_exception;
    private static Worker[] s_workers = [];
    private static readonly Lock s_growLock = new();

    // The job in flight; written by the caller before it publishes s_job, read by workers after.
    private static delegate*<void*, int, int, void> s_invoke;
    private static void* s_body;
    private static int s_count;
    private static int s_parts;
    private static int s_job;

    /// <summary>
    /// Per range (index = part − 1): the id of the job whose range is still unclaimed, or 0 once someone took it.
    /// Whoever wins the compare-exchange runs the range; the caller, done with its own, takes any left unclaimed,
    /// so a worker the OS has not scheduled yet (a busy, shared machine) never holds the loop up.
    /// </summary>
    private static int[] s_unclaimed = [];

    [ThreadStatic] private static bool t_inBody;

    /// <summary>How long an idle worker spins before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5000; // 200 µs

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
    /// Runs <paramref name="body"/> over [0, <paramref name="count"/>) split into contiguous ranges, one per
    /// participant, each at least <paramref name="grain"/> items, with at most <paramref name="maxParts"/> (and
    /// <see cref="ThreadCount"/>) participants; work too small to split runs inline. Exceptions thrown by any
    /// participant propagate to the caller (the first one, if several throw).
    /// </summary>
    public static void For<TBody>(int count, ref TBody body, int grain = 1, int maxParts = int.MaxValue)
        where TBody : struct, IParallelBody
    {
        if (count <= 0) return;
        int parts = Math.Min(Math.Min(ThreadCount, maxParts), count / Math.Max(grain, 1));
        if (parts <= 1 || t_inBody || Interlocked.CompareExchange(ref s_busy, 1, 0) != 0)
        {
            body.Execute(0, count);
            return;
        }
        try
        {
            var workers = EnsureWorkers(parts - 1);
            var unclaimed = s_unclaimed;
            int job = s_job == int.MaxValue ? 1 : s_job + 1;
            s_invoke = &Invoke<TBody>;
            s_body = Unsafe.AsPointer(ref body);
            s_count = count;
            s_parts = parts;
            s_exception = null;
            Volatile.Write(ref s_pending, parts - 1);
            Volatile.Write(ref s_job, job);
            for (int w = 0; w < parts - 1; w++) Volatile.Write(ref unclaimed[w], job);
            for (int w = 0; w < parts - 1; w++) workers[w].Signal();

            RunRange(0, count, parts);
            for (int part = 1; part < parts; part++)
                if (Interlocked.CompareExchange(ref unclaimed[part - 1], 0, job) == job)
                {
                    RunRange(part, count, parts);
                    Interlocked.Decrement(ref s_pending);
                }

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

    /// <summary>The first item of participant <paramref name="part"/> of <paramref name="parts"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RangeStart(int part, int count, int parts) => (int)((long)count * part / parts);

    private static void Invoke<TBody>(void* body, int start, int end) where TBody : struct, IParallelBody =>
        Unsafe.AsRef<TBody>(body).Execute(start, end);

    /// <summary>Runs one range of the job in flight; an exception is kept for the caller to rethrow.</summary>
    private static void RunRange(int part, int count, int parts)
    {
        t_inBody = true;
        try
        {
            s_invoke(s_body, RangeStart(part, count, parts), RangeStart(part + 1, count, parts));
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
            var unclaimed = new int[needed];
            s_unclaimed.CopyTo(unclaimed, 0);
            s_unclaimed = unclaimed;
            var grown = new Worker[needed];
            workers.CopyTo(grown, 0);
            for (int i = workers.Length; i < needed; i++) grown[i] = new Worker(i + 1);
            s_workers = grown;
            return grown;
        }
    }

    /// <summary>Called on a worker once signalled: runs its own range unless the caller took it already.</summary>
    private static void TryRunPart(int part)
    {
        // Read the job id first: the fields read after it belong to that job or a later one, and the claim
        // succeeds only while that very job still waits for this range, so the fields are that job's.
        int job = Volatile.Read(ref s_job);
        int count = s_count, parts = s_parts;
        var unclaimed = s_unclaimed;
        if (part >= parts || part > unclaimed.Length) return;
        if (Interlocked.CompareExchange(ref unclaimed[part - 1], 0, job) != job) return;
        RunRange(part, count, parts);
        Interlocked.Decrement(ref s_pending);
    }

    private sealed class Worker
    {
        private readonly int _part;
        private readonly object _gate = new();
        private int _signalled;
        private int _sleeping;

        public Worker(int part)
        {
            _part = part;
            var thread = new Thread(Loop, maxStackSize: 1 << 20) { IsBackground = true, Name = $"Backprop CPU worker {part}" };
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
                Volatile.Write(ref _signalled, 0);
                TryRunPart(_part);
            }
        }

        private void WaitForSignal()
        {
            long deadline = Stopwatch.GetTimestamp() + SpinTicks;
            while (Volatile.Read(ref _signalled) == 0)
            {
                Thread.SpinWait(20);
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
