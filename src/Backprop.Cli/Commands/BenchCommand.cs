using System.Diagnostics;
using System.Globalization;

namespace Backprop.Cli.Commands;

/// <summary>
/// <c>backprop bench [all|gemm|mlp|xor|cnn|lstm]</c>: the workloads of the benchmark suite, one line each as
/// <c>NAME METRIC=VALUE</c>, the same format the TorchSharp reference prints, so compare.sh can set them side by side.
/// Each figure is the median of several timed rounds after warm-up.
/// </summary>
public static class BenchCommand
{
    // Only workloads that run: a name the suite plans (attention) is refused like any unknown one until it exists.
    private static readonly string[] All = ["gemm", "mlp", "xor", "cnn", "lstm"];

    public static int Run(string[] args)
    {
        var options = new CliArguments("bench", args, new HashSet<string> { "threads" }, new HashSet<string> { "alloc" });
        var target = options.Target([.. All, "all"], "all");
        int threads = options.Int("threads", Environment.ProcessorCount, min: 1);
        Backends.Cpu.CpuBackend.ThreadCount = threads;
        Console.WriteLine($"# backprop cpu threads={threads}");
        var workloads = target == "all" ? All : [target];
        foreach (var name in workloads) Console.WriteLine(Workloads.Run(name, options.Flag("alloc")));
        return 0;
    }

    /// <summary>
    /// Median of <paramref name="rounds"/> timings, each the mean over <paramref name="perRound"/> calls, after warm-up:
    /// <paramref name="warm"/> calls, and then more until <see cref="WarmUpSeconds"/> have passed and a window of
    /// calls is no faster than the one before (at most <see cref="MaxWarmUpSeconds"/>), because .NET compiles hot
    /// methods again with profile-guided optimisation only after they have run for a while, on a background thread
    /// that shares the two cores; timing earlier would measure the first, unoptimised code.
    /// </summary>
    public static (double Seconds, long BytesPerCall) Median(Action step, int warm, int rounds, int perRound)
    {
        var warmClock = Stopwatch.StartNew();
        for (int i = 0; i < warm || warmClock.Elapsed.TotalSeconds < WarmUpSeconds; i++) step();
        for (double previous = double.MaxValue; warmClock.Elapsed.TotalSeconds < MaxWarmUpSeconds;)
        {
            var window = Stopwatch.StartNew();
            int calls = 0;
            while (window.Elapsed.TotalSeconds < WarmUpWindowSeconds) { step(); calls++; }
            double perCall = window.Elapsed.TotalSeconds / calls;
            if (perCall > previous * 0.98) break;
            previous = perCall;
        }
        var times = new double[rounds];
        long bytes = 0;
        for (int r = 0; r < rounds; r++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < perRound; i++) step();
            times[r] = sw.Elapsed.TotalSeconds / perRound;
            bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / perRound;
        }
        Array.Sort(times);
        return (times[rounds / 2], bytes);
    }

    public const double WarmUpSeconds = 2.0;
    public const double MaxWarmUpSeconds = 10.0;
    private const double WarmUpWindowSeconds = 0.5;

    public static string Format(double value, string decimals) => value.ToString(decimals, CultureInfo.InvariantCulture);
}
